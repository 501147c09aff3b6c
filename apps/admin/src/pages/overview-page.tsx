import { useEffect, useState } from 'preact/hooks';
import { formatRate, formatTime } from '../charts/format.js';
import { type ChartHover, TimeSeriesChart } from '../charts/time-series-chart.js';
import { EventList } from '../components/event-list.js';
import { ActivityIcon, DevicesIcon, GaugeIcon } from '../components/icons.js';
import { useHub } from '../state/hub-context.js';
import { href } from '../state/router.js';
import { useStore } from '../state/store.js';
import { ActiveDevices } from './overview/active-devices.js';

const FLEET_COLOR = '#6366f1';

export function OverviewPage() {
  const { fleet, activity, directory, socket } = useHub();
  const summary = useStore(fleet.latest);
  const events = useStore(activity.events);
  const names = useStore(directory.names);
  const status = useStore(socket.status);
  const [hover, setHover] = useState<ChartHover | null>(null);

  useEffect(() => directory.want(events.map((event) => event.deviceId ?? null)), [events, directory]);

  // Shown online: connected, or heard from within the inactivity timeout without a connection (HTTP devices).
  const online = (summary?.online ?? 0) + (summary?.active ?? 0);
  const total = summary?.devices ?? 0;
  const share = total > 0 ? Math.round((online / total) * 100) : 0;
  // Re-read every second with the summary that just arrived.
  const peak = peakOf(fleet.messagesPerSecond.buffer.values());

  return (
    <>
      <header class="page-header">
        <div>
          <h1>Overview</h1>
          <p class="page-subtitle">
            {status.kind === 'open' ? `Hub ${status.node} · updated every second` : 'Waiting for the hub…'}
          </p>
        </div>
      </header>

      <section class="stats" aria-label="Fleet">
        <a class="stat-card" href={href({ page: 'devices' })}>
          <div class="stat-label">
            <DevicesIcon size={14} /> Devices online
          </div>
          <div class="stat-value" data-testid="fleet-online">
            {summary ? online.toLocaleString() : '–'}
            <span class="stat-unit"> / {summary ? total.toLocaleString() : '–'}</span>
          </div>
          <div class="meter" aria-hidden="true">
            <span style={{ width: `${share}%` }} />
          </div>
        </a>
        <div class="stat-card">
          <div class="stat-label">
            <ActivityIcon size={14} /> Messages / s
          </div>
          <div class="stat-value" data-testid="fleet-rate">
            {formatRate(summary?.messagesPerSecond)}
          </div>
          <div class="stat-foot">peak {formatRate(peak)} in the last 15 min</div>
        </div>
        <div class="stat-card">
          <div class="stat-label">
            <GaugeIcon size={14} /> Rows written / s
          </div>
          <div class="stat-value">{formatRate(summary?.rowsPerSecond)}</div>
          <div class="stat-foot">committed to the database</div>
        </div>
      </section>

      <div class="grid grid-overview">
        <div class="column">
          <section class="card card-chart">
            <header class="card-header">
              <div>
                <h2>Messages per second</h2>
                <p class="card-subtitle">All devices, all transports · live, up to 15 minutes</p>
              </div>
              <div class="readout">
                <span class="readout-value">{formatRate(hover ? hover.value : summary?.messagesPerSecond)}</span>
                <span class="readout-time">{hover ? formatTime(hover.time) : 'now'}</span>
              </div>
            </header>
            <TimeSeriesChart
              series={fleet.messagesPerSecond}
              windowMs={fleet.windowMs}
              color={FLEET_COLOR}
              height={260}
              label="messages/s"
              format={formatRate}
              fromZero
              onHover={setHover}
            />
          </section>
          <ActiveDevices />
        </div>

        <section class="card">
          <header class="card-header">
            <div>
              <h2>Recent events</h2>
              <p class="card-subtitle">Connects, disconnects, activity and refusals, as they happen</p>
            </div>
          </header>
          <div class="card-scroll" data-testid="recent-events">
            <EventList
              events={events}
              names={names}
              empty="Nothing yet. Device connects, disconnects, rejected messages and refused tokens show up here the moment they happen."
            />
          </div>
        </section>
      </div>
    </>
  );
}

function peakOf(values: Float64Array): number | undefined {
  let peak: number | undefined;
  for (const value of values) if (peak === undefined || value > peak) peak = value;
  return peak;
}
