import { dirname } from 'node:path';
import { findUp } from './common/find-up.js';

/** The dashboard's files: the Vite build when present, else the placeholder page in apps/admin. */
export function findAdminAssets(): string | undefined {
  const index = findUp(['apps/admin/dist/index.html', 'apps/admin/public/index.html']);
  return index ? dirname(index) : undefined;
}
