import { TOKEN_PREFIX } from '@telehub/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiClient, ApiError, errorMessage } from '../api/api-client.js';
import { AlertIcon } from '../components/icons.js';
import { Logo } from '../components/logo.js';
import { signIn, signOutReason } from '../state/session.js';
import { useStore } from '../state/store.js';

export function SignInPage() {
  const reason = useStore(signOutReason);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // The page has one job: the cursor starts in the token field.
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate.startsWith(TOKEN_PREFIX.admin)) {
      setError(
        `An admin token starts with "${TOKEN_PREFIX.admin}". Device tokens (${TOKEN_PREFIX.device}…) cannot sign in.`,
      );
      return;
    }
    setChecking(true);
    setError(null);
    signOutReason.set(null);
    try {
      signIn(candidate, await new ApiClient(candidate).me());
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 401 ? refusal(failure.message) : errorMessage(failure),
      );
    } finally {
      setChecking(false);
    }
  };

  return (
    <div class="sign-in">
      <form class="sign-in-card" onSubmit={submit}>
        <div class="sign-in-brand">
          <Logo size={40} />
          <h1>Sign in to telehub</h1>
          <p class="muted">
            Paste an admin token. The hub saves the first one in <code>.telehub/admin-token</code>;{' '}
            <code>npm run admin -- token create</code> makes more.
          </p>
        </div>
        {reason ? (
          <div class="callout callout-info" role="status">
            {reason}
          </div>
        ) : null}
        <label class="field">
          <span class="field-label">Admin token</span>
          <input
            class="input input-mono"
            type="password"
            name="token"
            autoComplete="off"
            spellcheck={false}
            placeholder={`${TOKEN_PREFIX.admin}…`}
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
            required
            ref={input}
          />
        </label>
        {error ? (
          <div class="callout callout-danger" role="alert">
            <AlertIcon /> <span>{error}</span>
          </div>
        ) : null}
        <button type="submit" class="button button-primary button-block" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
        <p class="hint">The token is kept in this tab only, until you sign out or close it.</p>
      </form>
    </div>
  );
}

/** The hub's 401 detail says whether the token is unknown, revoked or expired. */
function refusal(detail: string): string {
  if (detail.includes('revoked')) return 'This admin token was revoked. Ask an admin for another one.';
  if (detail.includes('expired')) return 'This admin token has expired. Ask an admin for another one.';
  return 'The hub does not accept this token. Check that you pasted all of it.';
}
