import type { DeviceDetail, DeviceSession } from '@telehub/contracts';
import type { ComponentChildren } from 'preact';
import { humanize } from '../../components/event-text.js';
import { PlugIcon } from '../../components/icons.js';
import { ClockTime, RelativeTime } from '../../components/relative-time.js';

/** How each transport reaches the hub, as people name it. */
const TRANSPORT_NAMES: Record<string, string> = {
  mqtt: 'TCP',
  'mqtt-tls': 'TLS',
  'mqtt-ws': 'WebSocket (/mqtt)',
  ws: 'WebSocket (/v1/devices/ws)',
};

function protocolName(session: DeviceSession): string {
  if (session.mqttProtocolLevel === 5) return 'MQTT 5.0';
  if (session.mqttProtocolLevel === 4) return 'MQTT 3.1.1';
  return session.transport === 'ws' ? 'JSON over WebSocket' : 'MQTT';
}

function keepAlive(session: DeviceSession): string {
  if (session.keepAliveSeconds === null) return 'unknown';
  // The JSON WebSocket has no keep-alive of its own: the hub pings the device.
  if (session.transport === 'ws') return `the hub pings every ${session.keepAliveSeconds} s`;
  return session.keepAliveSeconds === 0 ? 'none (0)' : `${session.keepAliveSeconds} s`;
}

/** "12 min ago · 14:03:22": relative, kept current, then the exact time. */
function When({ time }: { time: string }) {
  return (
    <>
      <RelativeTime time={time} /> <span class="muted">· </span>
      <span class="muted">
        <ClockTime time={time} />
      </span>
    </>
  );
}

interface RowProps {
  label: string;
  field: string;
  mono?: boolean;
  children: ComponentChildren;
}

function Row({ label, field, mono, children }: RowProps) {
  return (
    <div>
      <dt>{label}</dt>
      <dd class={mono ? 'mono' : undefined} data-session-field={field}>
        {children}
      </dd>
    </div>
  );
}

/** The device's live session (or its last one): how it connected, from where, to which hub process, since when. */
export function ConnectionPanel({ device }: { device: DeviceDetail }) {
  const session = device.session;
  return (
    <section class="card" data-testid="connection-panel" data-live={String(session?.live ?? false)}>
      <header class="card-header">
        <div>
          <h2>
            <PlugIcon size={16} /> Connection
          </h2>
          <p class="card-subtitle">
            {!session ? (
              'No session recorded'
            ) : session.live ? (
              'The live session'
            ) : (
              <>
                The last session, ended <RelativeTime time={session.endedAt} fallback="at an unknown time" />
              </>
            )}
          </p>
        </div>
        {session?.live ? (
          <span class="badge badge-ok">
            <span class="badge-pulse" aria-hidden="true" /> Live
          </span>
        ) : session ? (
          <span class="badge badge-muted">Ended</span>
        ) : null}
      </header>
      {!session ? (
        <p class="empty-note">
          None yet. A device that sends over HTTP holds no session: each request stands alone
          {device.lastSeenAt ? (
            <>
              ; last heard <RelativeTime time={device.lastSeenAt} />
            </>
          ) : null}
          .
        </p>
      ) : (
        <dl class="kv">
          <Row label="Protocol" field="protocol">
            {protocolName(session)}
          </Row>
          <Row label="Transport" field="transport">
            {TRANSPORT_NAMES[session.transport] ?? session.transport} <code>{session.transport}</code>
          </Row>
          {session.transport === 'ws' ? null : (
            <Row label="Client ID" field="clientId" mono>
              {session.clientId ?? <span class="muted">unknown</span>}
            </Row>
          )}
          <Row label="Keep-alive" field="keepAlive">
            {keepAlive(session)}
          </Row>
          <Row label="Remote address" field="remoteAddress" mono>
            {session.remoteAddress ?? <span class="muted">unknown</span>}
          </Row>
          <Row label={session.live ? 'Connected since' : 'Connected'} field="connectedAt">
            <When time={session.connectedAt} />
          </Row>
          {session.live || !session.endedAt ? null : (
            <Row label="Ended" field="endedAt">
              <When time={session.endedAt} />
              {device.disconnectReason ? (
                <span class="muted"> · {humanize(device.disconnectReason).toLowerCase()}</span>
              ) : null}
            </Row>
          )}
          <Row label="Hub process" field="node" mono>
            {session.node ?? <span class="muted">unknown</span>}
          </Row>
        </dl>
      )}
    </section>
  );
}
