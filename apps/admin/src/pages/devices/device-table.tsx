import type { Device } from '@telehub/contracts';
import { formatValue } from '../../charts/format.js';
import { Labels } from '../../components/labels.js';
import { RelativeTime } from '../../components/relative-time.js';
import { shortId } from '../../components/short-id.js';
import { StatusDot } from '../../components/status-dot.js';
import { href } from '../../state/router.js';
import type { LatestByDevice } from './use-device-list.js';

/** Latest values shown per row; the device page has them all. */
const VALUES_PER_ROW = 3;

export function DeviceTable({
  devices,
  latest,
  onLabel,
}: {
  devices: Device[];
  latest: LatestByDevice;
  onLabel: (label: string) => void;
}) {
  return (
    <table class="table device-table">
      <thead>
        <tr>
          <th>Device</th>
          <th class="hide-narrow">Labels</th>
          <th>Latest values</th>
          <th class="hide-narrow">Status</th>
          <th class="align-right">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((device) => {
          const values = Object.entries(latest[device.id] ?? {}).sort(([a], [b]) => a.localeCompare(b));
          const newest = Math.max(0, ...values.map(([, item]) => item.time));
          const lastSeen = Math.max(device.lastSeenAt ? Date.parse(device.lastSeenAt) : 0, newest);
          const target = href({ page: 'device', id: device.id });
          return (
            <tr
              key={device.id}
              class="row-link"
              data-device-id={device.id}
              data-status={device.status}
              onClick={(event) => {
                if ((event.target as HTMLElement).closest('a, button')) return;
                location.hash = target;
              }}
            >
              <td>
                <div class="device-cell">
                  <StatusDot status={device.status} disabled={device.disabled} />
                  <div>
                    <a class="device-name" href={target}>
                      {device.name}
                    </a>
                    <div class="device-id mono" title={device.id} data-testid="short-id">
                      {shortId(device.id)}
                    </div>
                  </div>
                </div>
              </td>
              <td class="hide-narrow">
                <Labels labels={device.labels} onPick={onLabel} max={4} />
              </td>
              <td>
                {values.length === 0 ? (
                  <span class="muted">–</span>
                ) : (
                  <span class="latest-values">
                    {values.slice(0, VALUES_PER_ROW).map(([metric, item]) => (
                      <span key={metric} class="latest-value">
                        <span class="latest-metric">{metric}</span> {formatValue(item.value)}
                      </span>
                    ))}
                    {values.length > VALUES_PER_ROW ? (
                      <span class="muted">+{values.length - VALUES_PER_ROW}</span>
                    ) : null}
                  </span>
                )}
              </td>
              <td class="hide-narrow nowrap">
                <StatusText device={device} />
              </td>
              <td class="align-right nowrap">
                <RelativeTime time={lastSeen || null} fallback="never" />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function StatusText({ device }: { device: Device }) {
  if (device.disabled) return <span class="badge badge-muted">disabled</span>;
  switch (device.status) {
    case 'connected':
      return (
        <span class="badge badge-ok" title="A connection is open now">
          connected{device.transport ? ` · ${device.transport}` : ''}
        </span>
      );
    case 'active':
      return (
        <span class="badge badge-active" title="Heard from within its inactivity timeout, no connection open">
          active
        </span>
      );
    case 'offline':
      return <span class="badge badge-muted">offline</span>;
  }
}
