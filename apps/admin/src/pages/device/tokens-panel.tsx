import type { DeviceTokenInfo, IssuedDeviceToken } from '@telehub/contracts';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { TokenReveal } from '../../components/device-snippets.js';
import { Dialog } from '../../components/dialog.js';
import { KeyIcon, PlusIcon } from '../../components/icons.js';
import { RelativeTime } from '../../components/relative-time.js';
import { notify } from '../../components/toasts.js';
import { useHub } from '../../state/hub-context.js';
import { useCan } from '../../state/permissions.js';
import { useStore } from '../../state/store.js';

/** Rotation choices: how long the device's other tokens keep working after a new one is issued. */
const ROTATION_CHOICES: { label: string; seconds: number | undefined }[] = [
  { label: 'Keep the others working', seconds: undefined },
  { label: 'Others expire in 1 hour', seconds: 3600 },
  { label: 'Others expire in 24 hours', seconds: 24 * 3600 },
  { label: 'Revoke the others now', seconds: 0 },
];

function tokenState(token: DeviceTokenInfo): { label: string; tone: string } {
  if (token.revokedAt) return { label: 'revoked', tone: 'muted' };
  if (!token.active) return { label: 'expired', tone: 'muted' };
  if (token.expiresAt) return { label: 'expiring', tone: 'warn' };
  return { label: 'active', tone: 'ok' };
}

export function TokensPanel({ deviceId }: { deviceId: string }) {
  const { api, socket } = useHub();
  const connections = useStore(socket.connections);
  const [tokens, setTokens] = useState<DeviceTokenInfo[]>([]);
  const [issuing, setIssuing] = useState(false);
  const [rotation, setRotation] = useState(0);
  const [issued, setIssued] = useState<IssuedDeviceToken | null>(null);
  const [confirm, setConfirm] = useState<DeviceTokenInfo | null>(null);
  const admin = useCan('admin');

  const load = useCallback(() => {
    api
      .listTokens(deviceId)
      .then(setTokens)
      .catch((failure) => notify(errorMessage(failure), 'error'));
  }, [api, deviceId]);
  // Again after a reconnect: tokens may have changed meanwhile.
  useEffect(load, [load, connections]);

  const issue = async () => {
    setIssuing(true);
    try {
      const seconds = ROTATION_CHOICES[rotation]?.seconds;
      const token = await api.issueToken(deviceId, seconds === undefined ? {} : { expireOthersInSeconds: seconds });
      setIssued(token);
      load();
    } catch (failure) {
      notify(errorMessage(failure), 'error');
    } finally {
      setIssuing(false);
    }
  };

  const revoke = async (token: DeviceTokenInfo) => {
    setConfirm(null);
    try {
      await api.revokeToken(deviceId, token.id);
      notify(`Token ${token.hint} revoked.`);
      load();
    } catch (failure) {
      notify(errorMessage(failure), 'error');
    }
  };

  const sorted = [...tokens].sort(
    (a, b) => Number(b.active) - Number(a.active) || b.createdAt.localeCompare(a.createdAt),
  );

  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <KeyIcon size={16} /> Tokens
          </h2>
          <p class="card-subtitle">
            {admin
              ? 'Issue a new one to rotate; revoking ends the session at once'
              : 'Hints only; an admin issues and revokes them'}
          </p>
        </div>
      </header>
      {admin ? (
        <div class="token-issue">
          <select
            class="input input-small"
            aria-label="What happens to the other tokens"
            value={String(rotation)}
            onChange={(event) => setRotation(Number(event.currentTarget.value))}
          >
            {ROTATION_CHOICES.map((choice, index) => (
              <option key={choice.label} value={String(index)}>
                {choice.label}
              </option>
            ))}
          </select>
          <button type="button" class="button button-small" disabled={issuing} onClick={() => void issue()}>
            <PlusIcon size={14} /> Issue token
          </button>
        </div>
      ) : null}
      <ul class="token-list" data-testid="tokens">
        {sorted.map((token) => {
          const state = tokenState(token);
          return (
            <li key={token.id} class={`token ${token.active ? '' : 'token-inactive'}`}>
              <div>
                <code class="token-hint">{token.hint}</code>
                <div class="token-meta">
                  created <RelativeTime time={token.createdAt} /> · used{' '}
                  <RelativeTime time={token.lastUsedAt} fallback="never" />
                  {token.expiresAt && token.active ? (
                    <> · expires {new Date(token.expiresAt).toLocaleString()}</>
                  ) : null}
                </div>
              </div>
              <span class={`badge badge-${state.tone}`}>{state.label}</span>
              {token.active && admin ? (
                <button type="button" class="button button-small button-danger-ghost" onClick={() => setConfirm(token)}>
                  Revoke
                </button>
              ) : (
                <span />
              )}
            </li>
          );
        })}
      </ul>
      {issued ? (
        <Dialog title="New device token" onClose={() => setIssued(null)} wide>
          <TokenReveal credentials={{ id: deviceId, token: issued.token }} title="New token" />
          <footer class="dialog-footer">
            <button type="button" class="button button-primary" onClick={() => setIssued(null)}>
              Done
            </button>
          </footer>
        </Dialog>
      ) : null}
      {confirm ? (
        <Dialog title="Revoke this token?" onClose={() => setConfirm(null)}>
          <p>
            <code>{confirm.hint}</code> stops working at once. The device's current session ends too; it can connect
            again with another valid token.
          </p>
          <footer class="dialog-footer">
            <button type="button" class="button" onClick={() => setConfirm(null)}>
              Cancel
            </button>
            <button type="button" class="button button-danger" onClick={() => void revoke(confirm)}>
              Revoke token
            </button>
          </footer>
        </Dialog>
      ) : null}
    </section>
  );
}
