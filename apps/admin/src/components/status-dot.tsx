import type { DeviceStatus } from '@telehub/contracts';

const TITLES: Record<DeviceStatus | 'disabled', string> = {
  connected: 'online: connected now',
  active: 'online: heard from within its inactivity timeout, no open connection',
  offline: 'offline',
  disabled: 'disabled',
};

/**
 * Connected: a green dot with a soft pulse; active (online without an open connection, e.g. HTTP or a device that
 * connects for each message): a green dot without the pulse; offline: grey; disabled: hollow.
 */
export function StatusDot({ status, disabled = false }: { status: DeviceStatus; disabled?: boolean }) {
  const state = disabled ? 'disabled' : status;
  return <span class={`status-dot status-dot-${state}`} title={TITLES[state]} role="img" aria-label={TITLES[state]} />;
}
