import type { AdminTokenInfo } from '@telehub/contracts';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { Dialog } from '../../components/dialog.js';
import { PlusIcon, ShieldIcon } from '../../components/icons.js';
import { RelativeTime, TimeUntil } from '../../components/relative-time.js';
import { RoleBadge } from '../../components/role-badge.js';
import { notify } from '../../components/toasts.js';
import { useHub } from '../../state/hub-context.js';
import { useCan } from '../../state/permissions.js';
import { useStore } from '../../state/store.js';
import { CreateAdminTokenDialog } from './create-admin-token-dialog.js';

/** Where each token came from: a short label, and what it means. */
const SOURCES: Record<AdminTokenInfo['source'], [label: string, meaning: string]> = {
  environment: ['environment', 'TELEHUB_ADMIN_TOKEN: replaced when the variable changes'],
  bootstrap: ['first start', 'Made when the hub first started, saved in its data directory'],
  api: ['API', 'Made here or with POST /api/v1/admin-tokens'],
  cli: ['CLI', 'Made with npm run admin -- token create'],
};

function status(token: AdminTokenInfo): { label: string; tone: string } {
  if (token.revokedAt) return { label: 'revoked', tone: 'muted' };
  if (!token.active) return { label: 'expired', tone: 'muted' };
  return { label: 'active', tone: 'ok' };
}

/** Who may sign in to this hub: every admin token, making new ones (secret shown once) and revoking. */
export function AdminTokensPage() {
  const { api, socket, identity } = useHub();
  const admin = useCan('admin');
  const connections = useStore(socket.connections);
  const [tokens, setTokens] = useState<AdminTokenInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [confirm, setConfirm] = useState<AdminTokenInfo | null>(null);

  const load = useCallback(() => {
    if (!admin) return;
    api
      .listAdminTokens()
      .then((list) => {
        setTokens(list);
        setError(null);
      })
      .catch((failure) => setError(errorMessage(failure)));
  }, [api, admin]);
  // Again after a reconnect: tokens may have changed meanwhile (another admin, the CLI).
  useEffect(load, [load, connections]);

  if (!admin) {
    return (
      <div class="empty-state">
        <div class="empty-icon">
          <ShieldIcon size={22} />
        </div>
        <h3>Admin tokens are managed by admins</h3>
        <p>
          You are signed in as <strong>{identity.name}</strong> with the {identity.role} role.
        </p>
      </div>
    );
  }

  const revoke = async (token: AdminTokenInfo) => {
    setConfirm(null);
    try {
      await api.revokeAdminToken(token.id);
      notify(`Admin token "${token.name}" revoked.`);
      load();
    } catch (failure) {
      notify(errorMessage(failure), 'error');
    }
  };

  const sorted = [...(tokens ?? [])].sort(
    (a, b) => Number(b.active) - Number(a.active) || b.createdAt.localeCompare(a.createdAt),
  );
  const active = sorted.filter((token) => token.active).length;

  return (
    <>
      <header class="page-header">
        <div>
          <h1>Admin tokens</h1>
          <p class="page-subtitle">
            {tokens === null ? 'Loading…' : `${active} active · who may sign in to this hub and use its API`}
          </p>
        </div>
        <div class="page-actions">
          <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
            <PlusIcon /> New token
          </button>
        </div>
      </header>

      {error ? (
        <div class="callout callout-danger" role="alert">
          {error}
        </div>
      ) : null}

      <section class="card card-flush">
        <table class="table admin-token-table" data-testid="admin-tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th class="hide-narrow">Source</th>
              <th class="hide-narrow">Token</th>
              <th class="hide-narrow">Last used</th>
              <th class="hide-narrow">Expires</th>
              <th class="hide-narrow">Status</th>
              <th class="align-right">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((token) => {
              const state = status(token);
              const mine = token.id === identity.id;
              return (
                <tr
                  key={token.id}
                  data-token-id={token.id}
                  data-token-name={token.name}
                  class={token.active ? '' : 'row-inactive'}
                >
                  <td>
                    <div class="admin-token-name">
                      <span>{token.name}</span>
                      {mine ? <span class="chip">you</span> : null}
                    </div>
                    <div class="admin-token-created">
                      created <RelativeTime time={token.createdAt} />
                    </div>
                    {/* On a phone the status and expiry columns are hidden: they are said here instead. */}
                    <div class="admin-token-created show-narrow">
                      {state.label}
                      {token.active && token.expiresAt ? (
                        <>
                          {' '}
                          · expires <TimeUntil time={token.expiresAt} />
                        </>
                      ) : null}
                    </div>
                  </td>
                  <td>
                    <RoleBadge role={token.role} />
                  </td>
                  <td class="hide-narrow muted" title={SOURCES[token.source][1]}>
                    {SOURCES[token.source][0]}
                  </td>
                  <td class="hide-narrow nowrap">
                    <code class="token-hint">{token.hint}</code>
                  </td>
                  <td class="hide-narrow nowrap">
                    <RelativeTime time={token.lastUsedAt} fallback="never" />
                  </td>
                  <td class="hide-narrow nowrap">
                    {token.expiresAt === null ? (
                      <span class="muted">never</span>
                    ) : token.active ? (
                      <TimeUntil time={token.expiresAt} />
                    ) : (
                      <RelativeTime time={token.expiresAt} />
                    )}
                  </td>
                  <td class="hide-narrow">
                    <span class={`badge badge-${state.tone}`}>{state.label}</span>
                  </td>
                  <td class="align-right">
                    {!token.active ? null : token.source === 'environment' ? (
                      <span
                        class="hint env-note"
                        title="Change or unset TELEHUB_ADMIN_TOKEN and restart the hub to replace it"
                      >
                        set by the environment
                      </span>
                    ) : (
                      <button
                        type="button"
                        class="button button-small button-danger-ghost"
                        onClick={() => setConfirm(token)}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      {creating ? <CreateAdminTokenDialog onClose={() => setCreating(false)} onCreated={load} /> : null}
      {confirm ? (
        <Dialog title={`Revoke "${confirm.name}"?`} onClose={() => setConfirm(null)}>
          <p>
            <code>{confirm.hint}</code> stops working at once, for the API and on every dashboard signed in with it.
          </p>
          {confirm.id === identity.id ? (
            <div class="callout callout-warning">This is the token you are signed in with: you will be signed out.</div>
          ) : null}
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
    </>
  );
}
