import { formatAgo, formatTime, formatUntil } from '../charts/format.js';
import { now } from '../state/clock.js';
import { useStore } from '../state/store.js';

/** "12 s ago", kept current, with the exact time on hover. */
export function RelativeTime({
  time,
  fallback = 'never',
}: {
  time: number | string | null | undefined;
  fallback?: string;
}) {
  const current = useStore(now);
  if (time === null || time === undefined) return <span class="muted">{fallback}</span>;
  const epoch = typeof time === 'number' ? time : Date.parse(time);
  if (!Number.isFinite(epoch)) return <span class="muted">{fallback}</span>;
  return (
    <time dateTime={new Date(epoch).toISOString()} title={new Date(epoch).toLocaleString()}>
      {formatAgo(epoch, current)}
    </time>
  );
}

export function ClockTime({ time }: { time: number | string }) {
  const epoch = typeof time === 'number' ? time : Date.parse(time);
  return (
    <time dateTime={new Date(epoch).toISOString()} title={new Date(epoch).toLocaleString()}>
      {formatTime(epoch)}
    </time>
  );
}

/** "in 3 d" for a time ahead (an expiry), kept current, with the exact time on hover. */
export function TimeUntil({ time }: { time: string }) {
  const current = useStore(now);
  const epoch = Date.parse(time);
  return (
    <time dateTime={time} title={new Date(epoch).toLocaleString()}>
      {formatUntil(epoch, current)}
    </time>
  );
}
