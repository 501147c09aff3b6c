import { Injectable } from '@nestjs/common';
import type { AdminSubscribeMessage } from '@telehub/contracts';
import { committedBefore } from '@telehub/db';
import { TelemetryHistoryService } from '../telemetry/telemetry-history.service.js';
import { parseTime } from '../telemetry/time-range.js';
import { AdminMessageRefused } from './admin-channel.errors.js';
import type { SubscriptionSnapshot } from './admin-session.js';

/**
 * The snapshot ends a little in the future: a device whose clock runs ahead still has its newest points in
 * the snapshot rather than in neither snapshot nor live.
 */
const CLOCK_SKEW_MS = 60_000;

/**
 * A subscription's history: bucketed like the history API, read in one repeatable-read snapshot. The snapshot
 * itself comes back too, so each committed batch can be told apart: in the history, or live.
 */
@Injectable()
export class SubscriptionSnapshotService {
  constructor(private readonly history: TelemetryHistoryService) {}

  async snapshot(request: AdminSubscribeMessage, now = Date.now()): Promise<SubscriptionSnapshot> {
    const agg = request.agg ?? 'avg';
    if (request.history === undefined || (request.metrics !== '*' && request.metrics.length === 0)) {
      // Live only (or events only): everything committed since the subscription was registered is newer than
      // its (empty) snapshot.
      return {
        message: { watermark: now, from: now, to: now, bucket: 'raw', bucketMs: 0, agg, series: [] },
        includedInSnapshot: () => false,
      };
    }
    if (request.devices === '*') {
      throw new AdminMessageRefused(
        'history_needs_devices',
        'history is for named devices; a "*" subscription is live only',
      );
    }
    const from = parseTime(request.history, now);
    if (!from.ok) throw new AdminMessageRefused('invalid_time', `history: ${from.message}`);
    const result = await this.history.query({
      deviceIds: request.devices,
      metrics: request.metrics,
      from: new Date(from.ms),
      to: new Date(now + CLOCK_SKEW_MS),
      bucket: request.bucket,
      agg,
      withSnapshot: true,
    });
    const { snapshot } = result;
    let watermark: number | undefined;
    for (const series of result.series) {
      if (series.newest !== null) watermark = Math.max(watermark ?? series.newest, series.newest);
    }
    return {
      message: {
        watermark: watermark ?? now,
        from: result.from,
        to: result.to,
        bucket: result.bucket,
        bucketMs: result.bucketMs,
        agg: result.agg,
        series: result.series.map(({ deviceId, metric, times, values }) => ({ deviceId, metric, times, values })),
      },
      // No snapshot: nothing was read (the range is older than the raw tier keeps), so no batch is in it.
      includedInSnapshot: snapshot ? (xid) => committedBefore(BigInt(xid), snapshot) : () => false,
    };
  }
}
