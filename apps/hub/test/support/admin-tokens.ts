import type { AdminRole, IssuedAdminToken } from '@telehub/contracts';
import type { TestHub } from './test-hub.js';

export const ADMIN_TOKENS = '/api/v1/admin-tokens';

/** Makes an admin token through the API with the hub's (admin) token; returns the answer with its secret. */
export async function createAdminToken(
  hub: TestHub,
  body: { name: string; role: AdminRole; expiresInSeconds?: number; expiresAt?: string },
): Promise<IssuedAdminToken> {
  const response = await hub.api('POST', ADMIN_TOKENS, { body });
  if (response.status !== 201) throw new Error(`creating admin token: ${response.status} ${response.text}`);
  return response.body;
}

/** `hub.api` options that authenticate with this token instead of the hub's. */
export function as(token: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  return { ...options, auth: false, headers: { ...options.headers, Authorization: `Bearer ${token}` } };
}
