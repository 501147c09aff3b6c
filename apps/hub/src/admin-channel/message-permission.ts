import { ADMIN_MESSAGE_ROLES, type AdminClientMessage, type AdminRole, roleAllows } from '@telehub/contracts';
import { AdminMessageRefused } from './admin-channel.errors.js';

/**
 * The one check of what a channel message needs (ADMIN_MESSAGE_ROLES) against the role of the connection's
 * token: undefined when allowed, else the `forbidden` error the client gets. A message type without a role
 * decision is refused to every token (default deny).
 */
export function messageRefusal(type: AdminClientMessage['type'], role: AdminRole): AdminMessageRefused | undefined {
  const needed: AdminRole | undefined = ADMIN_MESSAGE_ROLES[type];
  if (needed && roleAllows(role, needed)) return undefined;
  const detail = needed
    ? `"${type}" needs the ${needed} role; this admin token has the ${role} role`
    : `"${type}" has no role decision`;
  return new AdminMessageRefused('forbidden', detail);
}
