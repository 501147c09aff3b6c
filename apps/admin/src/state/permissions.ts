import { type AdminRole, roleAllows } from '@telehub/contracts';
import { useHub } from './hub-context.js';

/**
 * Whether the signed-in token's role allows what needs `role` (the hub's own rule, from the contracts). The
 * dashboard hides what the role cannot do; the hub refuses it anyway (403), so this is convenience, not safety.
 */
export function useCan(role: AdminRole): boolean {
  return roleAllows(useHub().identity.role, role);
}

export const ROLE_DESCRIPTIONS: Record<AdminRole, string> = {
  viewer: 'Reads everything: devices, telemetry, events, commands. Changes nothing.',
  operator: 'A viewer who also sends and cancels commands.',
  admin: 'Everything: also creates, changes and deletes devices and their tokens, and manages admin tokens.',
};
