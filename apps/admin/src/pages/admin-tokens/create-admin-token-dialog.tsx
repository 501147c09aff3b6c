import {
  ADMIN_ROLES,
  ADMIN_TOKEN_LIMITS,
  type AdminRole,
  CreateAdminTokenRequestSchema,
  type IssuedAdminToken,
} from '@telehub/contracts';
import { useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { CopyButton } from '../../components/copy-button.js';
import { Dialog } from '../../components/dialog.js';
import { AlertIcon } from '../../components/icons.js';
import { RoleBadge } from '../../components/role-badge.js';
import { useHub } from '../../state/hub-context.js';
import { ROLE_DESCRIPTIONS } from '../../state/permissions.js';
import { EXPIRY_CHOICES, type ExpiryKey, expiryFields } from './expiry-choices.js';

/** A new admin token: name, role and expiry; then its secret, shown this once. */
export function CreateAdminTokenDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (token: IssuedAdminToken) => void;
}) {
  const { api } = useHub();
  const [name, setName] = useState('');
  const [role, setRole] = useState<AdminRole>('viewer');
  const [expiry, setExpiry] = useState<ExpiryKey>('30d');
  const [date, setDate] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<IssuedAdminToken | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    const fields = expiryFields(expiry, date);
    if (!fields) {
      setError('Choose the day the token stops working.');
      return;
    }
    // The same rules the hub applies, checked before the round trip.
    const request = CreateAdminTokenRequestSchema.safeParse({ name, role, ...fields });
    if (!request.success) {
      setError(request.error.issues.map((issue) => `${issue.path.join('.') || 'token'}: ${issue.message}`).join('; '));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const token = await api.createAdminToken(request.data);
      setCreated(token);
      onCreated(token);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Dialog title={`"${created.name}" is ready`} onClose={onClose} wide>
        <div class="token-reveal">
          <div class="callout callout-warning">
            <AlertIcon />
            <span>Copy the token now: the hub stores only a hash of it, so it cannot be shown again.</span>
          </div>
          <dl class="credentials">
            <div>
              <dt>
                Admin token · <RoleBadge role={created.role} />{' '}
                {created.expiresAt ? `until ${new Date(created.expiresAt).toLocaleString()}` : 'does not expire'}
              </dt>
              <dd>
                <code class="secret" data-testid="admin-token-secret">
                  {created.token}
                </code>
                <CopyButton text={created.token} label="Copy token" />
              </dd>
            </div>
          </dl>
          <p class="hint">
            Sign in to this dashboard with it, or send it as <code>Authorization: Bearer …</code> to the API.
          </p>
        </div>
        <footer class="dialog-footer">
          <button type="button" class="button button-primary" onClick={onClose}>
            Done
          </button>
        </footer>
      </Dialog>
    );
  }

  return (
    <Dialog title="New admin token" onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span class="field-label">Name</span>
          <input
            class="input"
            name="name"
            placeholder="wall display"
            maxLength={ADMIN_TOKEN_LIMITS.nameMaxLength}
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            required
          />
          <span class="field-hint">What it is for: it names the token in lists and in the dashboard.</span>
        </label>
        <fieldset class="field role-choices">
          <legend class="field-label">Role</legend>
          {ADMIN_ROLES.map((item) => (
            <label key={item} class={`role-choice ${role === item ? 'role-choice-active' : ''}`}>
              <input type="radio" name="role" value={item} checked={role === item} onChange={() => setRole(item)} />
              <RoleBadge role={item} />
              <span class="role-choice-text">{ROLE_DESCRIPTIONS[item]}</span>
            </label>
          ))}
        </fieldset>
        <div class="expiry-fields">
          <label class="field">
            <span class="field-label">Expires</span>
            <select
              class="input"
              name="expiry"
              value={expiry}
              onChange={(event) => setExpiry(event.currentTarget.value as ExpiryKey)}
            >
              {EXPIRY_CHOICES.map((choice) => (
                <option key={choice.key} value={choice.key}>
                  {choice.key === 'never' || choice.key === 'date' ? choice.label : `In ${choice.label}`}
                </option>
              ))}
            </select>
          </label>
          {expiry === 'date' ? (
            <label class="field">
              <span class="field-label">Last day</span>
              <input
                class="input"
                type="date"
                name="expiry-date"
                value={date}
                onInput={(event) => setDate(event.currentTarget.value)}
                required
              />
            </label>
          ) : null}
        </div>
        {error ? (
          <div class="callout callout-danger" role="alert">
            <AlertIcon /> <span>{error}</span>
          </div>
        ) : null}
        <footer class="dialog-footer">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create token'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
