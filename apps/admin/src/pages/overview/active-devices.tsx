import type { Device } from '@telehub/contracts';
import { useEffect, useState } from 'preact/hooks';
import { DevicesIcon } from '../../components/icons.js';
import { Labels } from '../../components/labels.js';
import { RelativeTime } from '../../components/relative-time.js';
import { StatusDot } from '../../components/status-dot.js';
import { useHub } from '../../state/hub-context.js';
import { useCan } from '../../state/permissions.js';
import { withPresence } from '../../state/presence-cache.js';
import { href } from '../../state/router.js';
import { useStore } from '../../state/store.js';

/** Devices the overview lists: the most recently seen ones. */
const SHOWN = 6;

/** The devices seen most recently, with their online dot moving live. */
export function ActiveDevices() {
  const { api, socket, directory, presence } = useHub();
  const connections = useStore(socket.connections);
  const presenceChanges = useStore(presence.latest);
  const admin = useCan('admin');
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [total, setTotal] = useState(0);

  // Again after a reconnect (`connections`): presence may have moved meanwhile.
  useEffect(() => {
    let cancelled = false;
    api
      .listDevices({ limit: SHOWN, sort: '-lastSeen' })
      .then((page) => {
        if (cancelled) return;
        directory.remember(page.items);
        setTotal(page.totals.matching);
        setDevices(page.items);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [api, directory, connections]);

  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <DevicesIcon size={16} /> Recently active
          </h2>
          <p class="card-subtitle">The devices seen last</p>
        </div>
        <a class="button button-small" href={href({ page: 'devices' })}>
          All devices{total > 0 ? ` (${total.toLocaleString()})` : ''}
        </a>
      </header>
      {devices === null ? null : devices.length === 0 ? (
        <p class="empty-note">
          {admin ? (
            <>
              No devices yet. <a href={href({ page: 'devices' })}>Create one</a> to get a token and a snippet that sends
              telemetry.
            </>
          ) : (
            'No devices yet. An admin creates them.'
          )}
        </p>
      ) : (
        <ul class="active-devices">
          {devices
            .map((device) => withPresence(device, presenceChanges.get(device.id)))
            .map((device) => (
              <li key={device.id}>
                <a class="active-device" href={href({ page: 'device', id: device.id })}>
                  <StatusDot status={device.status} disabled={device.disabled} />
                  <span class="active-device-name">{device.name}</span>
                  <Labels labels={device.labels} max={2} />
                  <span class="active-device-seen">
                    {device.status === 'connected' ? (
                      <span class="online-text">connected</span>
                    ) : (
                      <RelativeTime time={device.lastSeenAt} fallback="never seen" />
                    )}
                  </span>
                </a>
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}
