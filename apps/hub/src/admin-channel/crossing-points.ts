import type { ClusterMessageOf, CrossingSeries } from '../cluster/cluster-message.js';

type PointsMessage = ClusterMessageOf<'admin_points'>;

/** What one tick sends: the messages, the points in them, and the points left out. */
export interface CrossingTick {
  messages: PointsMessage[];
  sent: number;
  /** Thinned to the newest of their series (reported to the receivers as `dropped`). */
  thinned: number;
  /** Left out with their whole series (more series than the tick may carry): counted here only. */
  discarded: number;
}

/** Bytes of a message around its series: `{"kind":"admin_points","xid":"…","series":[…]}` and some room. */
const MESSAGE_OVERHEAD_BYTES = 100;

const seriesKey = (deviceId: string, metric: string) => `${deviceId}\u0000${metric}`;

/**
 * The live points one hub process sends the others during one tick of the admin rate: gathered per committing
 * transaction (so the receiving subscriptions can tell, as for their own process's batches, whether a point is
 * in their snapshot), at most `maxPoints` per tick, cut into messages that each fit a notice.
 *
 * Below `maxPoints` every point crosses, as every point reaches a subscription on the device's own process. Above
 * it, as a lagging subscription does, each series keeps only its newest point and reports the rest as dropped;
 * if even that is too many, the series beyond the limit are left out (counted by the sender only).
 */
export class CrossingPoints {
  /** Transaction id ('' when unknown) → series → points, in commit order. */
  private byXid = new Map<string, Map<string, CrossingSeries>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(deviceId: string, metric: string, time: number, value: number, xid: string | undefined): void {
    let group = this.byXid.get(xid ?? '');
    if (!group) {
      group = new Map();
      this.byXid.set(xid ?? '', group);
    }
    const key = seriesKey(deviceId, metric);
    let series = group.get(key);
    if (!series) {
      series = { deviceId, metric, times: [], values: [] };
      group.set(key, series);
    }
    series.times.push(time);
    series.values.push(value);
    this.count += 1;
  }

  /**
   * Keeps only the newest point of each series (the bus is backed up and the points wait for another tick);
   * returns how many were left out, each counted as `dropped` in its series.
   */
  thin(): number {
    let thinned = 0;
    for (const group of this.byXid.values()) for (const series of group.values()) thinned += thinToNewest(series);
    this.count -= thinned;
    return thinned;
  }

  /** Hands over this tick's points as messages of at most `maxBytes` of JSON each, and starts anew. */
  take(maxPoints: number, maxBytes: number): CrossingTick {
    const groups = this.byXid;
    const total = this.count;
    this.byXid = new Map();
    this.count = 0;
    let thinned = 0;
    let discarded = 0;
    if (total > maxPoints) {
      let kept = 0;
      for (const group of groups.values()) {
        for (const [key, series] of group) {
          if (kept >= maxPoints) {
            discarded += series.times.length;
            group.delete(key);
            continue;
          }
          thinned += thinToNewest(series);
          kept += 1;
        }
      }
    }
    const messages: PointsMessage[] = [];
    for (const [xid, group] of groups) {
      messages.push(...toMessages(xid === '' ? undefined : xid, [...group.values()], maxBytes));
    }
    return { messages, sent: total - thinned - discarded, thinned, discarded };
  }
}

/** Keeps the newest point of `series` (by time: batches commit in any order) and returns how many went. */
function thinToNewest(series: CrossingSeries): number {
  const extra = series.times.length - 1;
  if (extra <= 0) return 0;
  let newest = 0;
  for (let index = 1; index < series.times.length; index += 1) {
    if ((series.times[index] as number) >= (series.times[newest] as number)) newest = index;
  }
  series.times = [series.times[newest] as number];
  series.values = [series.values[newest] as number];
  series.dropped = (series.dropped ?? 0) + extra;
  return extra;
}

/** The series of one transaction in as few messages as fit `maxBytes`; a series too long alone is cut in slices. */
function toMessages(xid: string | undefined, series: CrossingSeries[], maxBytes: number): PointsMessage[] {
  const budget = maxBytes - MESSAGE_OVERHEAD_BYTES;
  const messages: PointsMessage[] = [];
  let current: CrossingSeries[] = [];
  let bytes = 0;
  const push = () => {
    if (current.length === 0) return;
    messages.push(
      xid === undefined ? { kind: 'admin_points', series: current } : { kind: 'admin_points', xid, series: current },
    );
    current = [];
    bytes = 0;
  };
  for (const whole of series) {
    for (const slice of slices(whole, budget)) {
      const size = Buffer.byteLength(JSON.stringify(slice)) + 1;
      if (bytes + size > budget) push();
      current.push(slice);
      bytes += size;
    }
  }
  push();
  return messages;
}

/** `series` cut into pieces of at most `budget` bytes of JSON (the dropped count rides with the first). */
function slices(series: CrossingSeries, budget: number): CrossingSeries[] {
  const size = Buffer.byteLength(JSON.stringify(series));
  if (size <= budget || series.times.length <= 1) return [series];
  const pieces = Math.ceil(size / budget) + 1;
  const perPiece = Math.max(1, Math.floor(series.times.length / pieces));
  const out: CrossingSeries[] = [];
  for (let start = 0; start < series.times.length; start += perPiece) {
    out.push({
      deviceId: series.deviceId,
      metric: series.metric,
      times: series.times.slice(start, start + perPiece),
      values: series.values.slice(start, start + perPiece),
      ...(start === 0 && series.dropped ? { dropped: series.dropped } : {}),
    });
  }
  return out;
}
