import { z } from 'zod';

/**
 * What an admin token may do, from least to most. Each role includes the ones before it:
 * - `viewer`: read everything (devices, telemetry, events, commands, the fleet), nothing else;
 * - `operator`: also send and cancel commands;
 * - `admin`: also provision (devices, device tokens) and manage admin tokens.
 */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;
export const AdminRoleSchema = z.enum(ADMIN_ROLES).meta({ id: 'AdminRole' });
export type AdminRole = z.infer<typeof AdminRoleSchema>;

/** Whether a token with role `held` may do what needs role `needed`. */
export function roleAllows(held: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(held) >= ADMIN_ROLES.indexOf(needed);
}

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}
