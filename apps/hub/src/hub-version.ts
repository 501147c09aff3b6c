import { readFileSync } from 'node:fs';
import { findUp } from './common/find-up.js';

/** The version in the root package.json. */
export function hubVersion(): string {
  const file = findUp(['package.json']);
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'unknown';
}
