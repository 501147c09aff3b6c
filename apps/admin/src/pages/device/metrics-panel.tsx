import { useEffect, useMemo, useState } from 'preact/hooks';
import { formatTime, formatValue } from '../../charts/format.js';
import { colorFor } from '../../charts/palette.js';
import { type ChartHover, TimeSeriesChart } from '../../charts/time-series-chart.js';
import { ActivityIcon } from '../../components/icons.js';
import { RelativeTime } from '../../components/relative-time.js';
import type { DeviceTelemetry, TelemetryStatus } from '../../state/device-telemetry.js';
import { useStore } from '../../state/store.js';
import { TIME_RANGES, type TimeRange } from '../../state/time-ranges.js';

export function MetricsPanel({
  telemetry,
  range,
  onRange,
}: {
  telemetry: DeviceTelemetry;
  range: TimeRange;
  onRange: (range: TimeRange) => void;
}) {
  const metrics = useStore(telemetry.metrics);
  const status = useStore(telemetry.status);
  const dropped = useStore(telemetry.dropped);
  return (
    <section class="section" aria-label="Telemetry">
      <div class="section-header">
        <h2>Telemetry</h2>
        <StatusNote status={status} dropped={dropped} />
        <div class="segmented" role="tablist" aria-label="Time range">
          {TIME_RANGES.map((item) => (
            <button
              key={item.key}
              type="button"
              role="tab"
              aria-selected={item.key === range.key}
              class={item.key === range.key ? 'active' : ''}
              data-range={item.key}
              onClick={() => onRange(item)}
            >
              {item.key === '15m' ? <span class="live-dot" aria-hidden="true" /> : null}
              {item.label}
            </button>
          ))}
        </div>
      </div>
      {metrics.length === 0 ? (
        <div class="card empty-state">
          <div class="empty-icon">
            <ActivityIcon size={22} />
          </div>
          <h3>{status.kind === 'loading' ? 'Loading telemetry…' : 'No telemetry yet'}</h3>
          <p>Charts appear here, live, as soon as the device sends its first values.</p>
        </div>
      ) : (
        <div class="metric-grid">
          {metrics.map((metric) => (
            <MetricCard key={metric} telemetry={telemetry} metric={metric} windowMs={range.windowMs} />
          ))}
        </div>
      )}
    </section>
  );
}

function StatusNote({ status, dropped }: { status: TelemetryStatus; dropped: number }) {
  if (status.kind === 'error') return <span class="section-note tone-danger">{status.message}</span>;
  if (status.kind === 'loading') return <span class="section-note">Loading history…</span>;
  return (
    <span
      class="section-note"
      title="History is summarised in buckets of this width; live points are appended as they arrive"
    >
      {status.bucketMs > 0 ? `${status.bucket} averages` : 'every point'}
      {dropped > 0 ? ` · ${dropped.toLocaleString()} points skipped to keep up` : ''}
    </span>
  );
}

function MetricCard({ telemetry, metric, windowMs }: { telemetry: DeviceTelemetry; metric: string; windowMs: number }) {
  const series = useMemo(() => telemetry.seriesOf(metric), [telemetry, metric]);
  const latest = useStore(telemetry.latest)[metric];
  const [hover, setHover] = useState<ChartHover | null>(null);
  const [empty, setEmpty] = useState(series.buffer.length === 0);
  const color = colorFor(metric);

  // "No data in this range" only needs a check now and then, not a render per point.
  useEffect(() => {
    const timer = setInterval(() => setEmpty(series.buffer.length === 0), 500);
    return () => clearInterval(timer);
  }, [series]);

  return (
    <article class="card metric-card" data-metric={metric}>
      <header class="metric-header">
        <div class="metric-name">
          <span class="metric-swatch" style={{ background: color }} />
          {metric}
        </div>
        <div class="readout">
          <span class="readout-value" data-testid={`latest-${metric}`}>
            {formatValue(hover ? hover.value : latest?.value)}
          </span>
          <span class="readout-time">
            {hover ? formatTime(hover.time) : latest ? <RelativeTime time={latest.time} /> : 'no value yet'}
          </span>
        </div>
      </header>
      <div class="metric-chart">
        <TimeSeriesChart
          series={series}
          windowMs={windowMs}
          color={color}
          height={170}
          label={metric}
          onHover={setHover}
        />
        {empty ? <div class="chart-empty">No data in this range</div> : null}
      </div>
    </article>
  );
}
