import { useHub } from '../state/hub-context.js';
import { UserIcon } from './icons.js';
import { TimeUntil } from './relative-time.js';
import { RoleBadge } from './role-badge.js';

/** Who is signed in, with which role (and when the token expires): the name of the admin token. */
export function SignedInAs() {
  const { identity } = useHub();
  return (
    <div class="signed-in-as" data-testid="signed-in-as" data-role={identity.role}>
      <span class="signed-in-icon">
        <UserIcon size={14} />
      </span>
      <div class="signed-in-text">
        <span class="signed-in-name" title={`Signed in with the admin token "${identity.name}"`}>
          {identity.name}
        </span>
        <span class="signed-in-meta">
          <RoleBadge role={identity.role} />
          {identity.expiresAt ? (
            <span class="signed-in-expiry">
              expires <TimeUntil time={identity.expiresAt} />
            </span>
          ) : null}
        </span>
      </div>
    </div>
  );
}
