import { Inject, Injectable } from '@nestjs/common';
import { HISTORY_LIMITS, type TelemetryHistory, type TelemetryHistoryQuery } from '@telehub/contracts';
import {
  type DatabaseSnapshot,
  DeviceRepository,
  type HistoryAgg,
  type HistoryRow,
  type HistorySeries,
  type HistoryTier,
  TelemetryHistoryRepository,
  wholeBucketRange,
} from '@telehub/db';
import { ApiError, type FieldError } from '../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { deviceNotFound } from '../devices/devices.service.js';
import { type Bucket, chooseBucket, parseBucket } from './bucket-choice.js';
import { type ChunkSink, concatBatches, csvFilename, writeCsv } from './telemetry-csv.js';
import { parseTimeRange } from './time-range.js';

/** A history query for any number of devices (the REST API asks for one, the admin channel for many). */
export interface HistoryRequest {
  deviceIds: string[];
  /** '*': every metric with data in the range. Named metrics always get a series, empty when they have no data. */
  metrics: string[] | '*';
  from: Date;
  to: Date;
  /** `raw`, or a size like `30s`, `5m`, `1h`, `1d`; omitted: chosen for about 1,000 points per series. */
  bucket?: string;
  /** Default avg; ignored for raw. */
  agg?: HistoryAgg;
  /** Also answer with the database snapshot the figures were read in (the admin channel's gap-free join). */
  withSnapshot?: boolean;
}

export interface HistoryResult {
  /** Epoch ms: the range the figures cover ([from, to)); with a bucket, widened to whole buckets. */
  from: number;
  to: number;
  /** `raw` or the canonical size, like `5m`. */
  bucket: string;
  /** 0 for raw. */
  bucketMs: number;
  agg: HistoryAgg;
  /** The tier that answered, and from when it holds data (epoch ms, ≥ from): see TierCoverage. */
  tier: HistoryTier;
  coveredFrom: number;
  /**
   * Per device (in the order asked) and metric (in the order named, or by name for '*'): times are bucket
   * starts or sample times, oldest first; `newest` is the time of the newest raw row included.
   */
  series: HistorySeries[];
  /** With `withSnapshot`: the snapshot the figures were read in; undefined when nothing was read. */
  snapshot: DatabaseSnapshot | undefined;
}

/** Rows a CSV export asks the database for at a time: large enough for few round trips, small enough to hold. */
const CSV_ROWS_PER_FETCH = 2000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Telemetry history: bucketed aggregates (from TimescaleDB's continuous aggregates where they can answer) and
 * raw samples, as columnar series for charts or as a streamed CSV export.
 */
@Injectable()
export class TelemetryHistoryService {
  private readonly maxPoints: number;
  private readonly csvMaxExports: number;
  private readonly autoBucketPoints: number;
  private activeExports = 0;

  constructor(
    private readonly history: TelemetryHistoryRepository,
    private readonly devices: DeviceRepository,
    @Inject(HUB_CONFIG) config: HubConfig,
  ) {
    this.maxPoints = config.history.maxPoints;
    this.csvMaxExports = config.history.csvMaxExports;
    // One less than the limit: widening the range to whole buckets may add one point.
    this.autoBucketPoints = Math.max(1, Math.min(HISTORY_LIMITS.autoBucketPoints, this.maxPoints - 1));
  }

  /**
   * Series for many devices at once. Bad input (no devices, an invalid time or bucket, from not before to) and
   * answers over TELEHUB_HISTORY_MAX_POINTS points per series are ApiErrors with stable codes.
   */
  async query(request: HistoryRequest): Promise<HistoryResult> {
    const fromMs = request.from.getTime();
    const toMs = request.to.getTime();
    validateRequest(request, fromMs, toMs);
    const agg = request.agg ?? 'avg';
    const rangeMs = toMs - fromMs;
    const bucket =
      request.bucket === undefined
        ? chooseBucket(rangeMs, this.autoBucketPoints)
        : this.parseBucket(request.bucket, { fromMs, toMs });
    const range = {
      deviceIds: request.deviceIds,
      metrics: request.metrics,
      fromMs,
      toMs,
      withSnapshot: request.withSnapshot,
    };

    if (bucket === 'raw') {
      const covered = this.history.rawCoverage(fromMs);
      const { series, snapshot } =
        covered.coveredFromMs < toMs
          ? await this.history.raw({ ...range, fromMs: covered.coveredFromMs, rowsPerSeries: this.maxPoints + 1 })
          : { series: [], snapshot: undefined };
      const overfull = series.find((item) => item.times.length > this.maxPoints);
      if (overfull) throw this.tooManyRawPoints(overfull.metric, rangeMs);
      return {
        from: fromMs,
        to: toMs,
        bucket: 'raw',
        bucketMs: 0,
        agg,
        tier: covered.tier,
        coveredFrom: Math.min(covered.coveredFromMs, toMs),
        series: this.inOrder(series, request),
        snapshot,
      };
    }
    const whole = wholeBucketRange(fromMs, toMs, bucket.ms);
    const answer = await this.history.bucketed({ ...range, bucketMs: bucket.ms, agg });
    return {
      from: whole.fromMs,
      to: whole.toMs,
      bucket: bucket.label,
      bucketMs: bucket.ms,
      agg,
      tier: answer.tier,
      coveredFrom: Math.min(answer.coveredFromMs, whole.toMs),
      series: this.inOrder(answer.series, request),
      snapshot: answer.snapshot,
    };
  }

  /** GET /api/v1/devices/{id}/telemetry as JSON. */
  async deviceHistory(deviceId: string, query: TelemetryHistoryQuery, nowMs = Date.now()): Promise<TelemetryHistory> {
    await this.assertDevice(deviceId);
    const range = resolveRange(query, nowMs);
    const result = await this.query({
      deviceIds: [deviceId],
      metrics: query.metrics,
      from: new Date(range.fromMs),
      to: new Date(range.toMs),
      bucket: query.bucket,
      agg: query.agg,
    });
    return {
      deviceId,
      from: new Date(result.from).toISOString(),
      to: new Date(result.to).toISOString(),
      bucket: result.bucket,
      bucketMs: result.bucketMs,
      agg: result.agg,
      tier: result.tier,
      coveredFrom: new Date(result.coveredFrom).toISOString(),
      series: result.series.map(({ metric, times, values }) => ({ metric, times, values })),
    };
  }

  /**
   * GET /api/v1/devices/{id}/telemetry as CSV, streamed from a database cursor into `sink` at the pace the
   * client reads: raw rows without a bucket, bucketed rows with one. Metric by metric, oldest first. No
   * points limit (nothing is held), but at most TELEHUB_HISTORY_CSV_MAX_EXPORTS at once, since each holds a
   * database connection while it streams.
   */
  async exportCsv(
    deviceId: string,
    query: TelemetryHistoryQuery,
    sink: ChunkSink,
    nowMs = Date.now(),
  ): Promise<number> {
    await this.assertDevice(deviceId);
    const { fromMs, toMs } = resolveRange(query, nowMs);
    const bucket = query.bucket === undefined ? 'raw' : this.parseBucket(query.bucket);
    if (this.activeExports >= this.csvMaxExports) {
      throw new ApiError(
        429,
        'too_many_exports',
        'Too many exports',
        `at most ${this.csvMaxExports} CSV exports stream at once (TELEHUB_HISTORY_CSV_MAX_EXPORTS); retry when one has finished`,
        undefined,
        { 'Retry-After': '5' },
      );
    }
    this.activeExports += 1;
    try {
      let batches: AsyncIterable<HistoryRow[]>;
      if (bucket === 'raw') {
        sink.start(csvFilename(deviceId, fromMs, toMs));
        // Only what the raw tier keeps, as the JSON answer reads it.
        const coveredFrom = Math.min(this.history.rawCoverage(fromMs).coveredFromMs, toMs);
        const metrics =
          query.metrics === '*' ? await this.history.metricsInRange(deviceId, coveredFrom, toMs) : query.metrics;
        batches = concatBatches(
          metrics.map(
            (metric) => () => this.history.rawCursor({ deviceId, metric }, coveredFrom, toMs, CSV_ROWS_PER_FETCH),
          ),
        );
      } else {
        const whole = wholeBucketRange(fromMs, toMs, bucket.ms);
        sink.start(csvFilename(deviceId, whole.fromMs, whole.toMs, { label: bucket.label, agg: query.agg }));
        batches = this.history.bucketedCursor(
          { deviceIds: [deviceId], metrics: query.metrics, fromMs, toMs, bucketMs: bucket.ms, agg: query.agg },
          CSV_ROWS_PER_FETCH,
        );
      }
      return await writeCsv(batches, sink);
    } finally {
      this.activeExports -= 1;
    }
  }

  private async assertDevice(deviceId: string): Promise<void> {
    if (!(await this.devices.findById(deviceId))) throw deviceNotFound(deviceId);
  }

  /** With `limitedTo` (JSON answers), a bucket may not give more than maxPoints points per series over it. */
  private parseBucket(text: string, limitedTo?: { fromMs: number; toMs: number }): Bucket | 'raw' {
    const bucket = parseBucket(text);
    if (bucket === undefined) {
      throw ApiError.validation([{ field: 'bucket', message: 'must be raw or a size like 30s, 5m, 1h, 1d, 1w' }]);
    }
    if (bucket === 'raw' || limitedTo === undefined) return bucket;
    // Counted over the range widened to whole buckets: what the answer would really hold.
    const whole = wholeBucketRange(limitedTo.fromMs, limitedTo.toMs, bucket.ms);
    const points = (whole.toMs - whole.fromMs) / bucket.ms;
    if (points > this.maxPoints) {
      const enough = chooseBucket(limitedTo.toMs - limitedTo.fromMs, Math.max(1, this.maxPoints - 1)).label;
      throw new ApiError(
        400,
        'too_many_points',
        'Too many points',
        `bucket ${bucket.label} gives ${points} points per series over this range, more than ${this.maxPoints} (TELEHUB_HISTORY_MAX_POINTS): use a bucket of ${enough} or more, a shorter range, or format=csv; or leave bucket out to let the hub choose`,
      );
    }
    return bucket;
  }

  private tooManyRawPoints(metric: string, rangeMs: number): ApiError {
    return new ApiError(
      400,
      'too_many_points',
      'Too many points',
      `metric ${metric} has more than ${this.maxPoints} raw samples in this range (TELEHUB_HISTORY_MAX_POINTS): use a bucket (e.g. ${chooseBucket(rangeMs, this.autoBucketPoints).label}), a shorter range, or format=csv`,
    );
  }

  /** Devices in the order asked, metrics in the order named (with empty series for those without data). */
  private inOrder(series: HistorySeries[], request: HistoryRequest): HistorySeries[] {
    const byDevice = new Map<string, HistorySeries[]>();
    for (const item of series) byDevice.set(item.deviceId, [...(byDevice.get(item.deviceId) ?? []), item]);
    return [...new Set(request.deviceIds)].flatMap((deviceId) => {
      const found = byDevice.get(deviceId) ?? [];
      if (request.metrics === '*') return found;
      return [...new Set(request.metrics)].map(
        (metric) =>
          found.find((item) => item.metric === metric) ?? { deviceId, metric, times: [], values: [], newest: null },
      );
    });
  }
}

function resolveRange(query: TelemetryHistoryQuery, nowMs: number): { fromMs: number; toMs: number } {
  const range = parseTimeRange(query.from, query.to, nowMs);
  if (!range.ok) throw ApiError.validation(range.errors);
  return range;
}

function validateRequest(request: HistoryRequest, fromMs: number, toMs: number): void {
  const errors: FieldError[] = [];
  if (request.deviceIds.length === 0) errors.push({ field: 'deviceIds', message: 'name at least one device' });
  const notUuid = request.deviceIds.find((id) => !UUID.test(id));
  if (notUuid !== undefined) errors.push({ field: 'deviceIds', message: `${JSON.stringify(notUuid)} is not a UUID` });
  if (request.metrics !== '*' && request.metrics.length === 0) {
    errors.push({ field: 'metrics', message: "name at least one metric, or '*'" });
  }
  if (!Number.isFinite(fromMs)) errors.push({ field: 'from', message: 'is not a valid time' });
  if (!Number.isFinite(toMs)) errors.push({ field: 'to', message: 'is not a valid time' });
  else if (fromMs >= toMs) errors.push({ field: 'from', message: 'must be before to' });
  if (errors.length > 0) throw ApiError.validation(errors);
}
