import type { AdminRole } from '@telehub/contracts';
import { ROLE_DESCRIPTIONS } from '../state/permissions.js';

/** An admin token's role, coloured by how much it may do. */
export function RoleBadge({ role }: { role: AdminRole }) {
  return (
    <span class={`badge role-badge role-${role}`} title={ROLE_DESCRIPTIONS[role]} data-role={role}>
      {role}
    </span>
  );
}
