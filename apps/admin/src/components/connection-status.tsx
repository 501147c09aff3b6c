import type { ConnectionStatus } from '../api/admin-socket.js';
import { now } from '../state/clock.js';
import { useHub } from '../state/hub-context.js';
import { useStore } from '../state/store.js';
import { RefreshIcon } from './icons.js';

function label(status: ConnectionStatus): string {
  switch (status.kind) {
    case 'open':
      return 'Live';
    case 'connecting':
      return status.attempt === 0 ? 'Connecting' : 'Reconnecting';
    case 'reconnecting':
      return 'Reconnecting';
    case 'unauthorized':
      return 'Signed out';
    case 'stopped':
      return 'Offline';
  }
}

/** The small pill in the navigation: is the dashboard live? */
export function ConnectionPill() {
  const { socket } = useHub();
  const status = useStore(socket.status);
  const kind = status.kind === 'open' ? 'live' : status.kind === 'stopped' ? 'stopped' : 'reconnecting';
  const title = status.kind === 'open' ? `Connected to hub ${status.node}` : label(status);
  return (
    <span class={`connection-pill connection-${kind}`} data-testid="connection-status" data-state={kind} title={title}>
      <span class="connection-dot" />
      {label(status)}
    </span>
  );
}

/** Across the top while the channel is down: why, when the next attempt is, and a way to try at once. */
export function ConnectionBanner() {
  const { socket } = useHub();
  const status = useStore(socket.status);
  const current = useStore(now);
  if (status.kind !== 'reconnecting' && !(status.kind === 'connecting' && status.attempt > 0)) return null;
  const seconds = status.kind === 'reconnecting' ? Math.max(0, Math.ceil((status.retryAt - current) / 1000)) : 0;
  return (
    <div class="connection-banner" role="status" data-testid="reconnecting-banner">
      <span class="spinner" aria-hidden="true" />
      <span>
        <strong>Reconnecting to the hub…</strong>{' '}
        {status.kind === 'reconnecting'
          ? `${capitalize(status.reason)}. ${seconds > 0 ? `Next attempt in ${seconds} s.` : 'Trying now.'}`
          : 'Trying now.'}{' '}
        Live data resumes by itself.
      </span>
      {status.kind === 'reconnecting' ? (
        <button type="button" class="button button-small button-ghost" onClick={socket.retryNow}>
          <RefreshIcon size={14} /> Retry now
        </button>
      ) : null}
    </div>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
