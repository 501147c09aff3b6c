import type { TelemetryBatch, TelemetryRepository } from '@telehub/db';
import type { TelemetryPoint } from './telemetry-payload.js';
import type { TelemetryWriter } from './telemetry-writer.js';

export interface LateLane {
  /** Writes messages holding a point at least `ageMs` old; its own batches, its own statements. */
  writer: TelemetryWriter;
  ageMs: number;
}

/**
 * How the late lane writes a batch: its rows first, its latest values after (TelemetryRepository.insertRowsThenLatest),
 * so while its rows wait for a compression it holds no `device_latest` row that the fleet's batches upsert; a
 * device sending its buffered points with its current ones would otherwise stall the fleet through that row. The
 * INSERT path whatever TELEHUB_INGEST_WRITE_METHOD says: that is the path tested against compressed chunks (the
 * TimescaleDB test server, PGlite, has no COPY FROM STDIN).
 */
export function lateLaneWriteBatch(
  telemetry: TelemetryRepository,
): (batch: TelemetryBatch, latest: TelemetryBatch) => Promise<string | undefined> {
  return (batch, latest) => telemetry.insertRowsThenLatest(batch, latest);
}

/**
 * Two writers, so that one late point never stalls the fleet. On TimescaleDB a row for a chunk that is being
 * compressed waits until the compression ends (seconds for a large chunk), and a batch is one statement: every
 * device's rows in it would wait too, unacknowledged. Messages with a point older than the compression horizon
 * (`late.ageMs`) therefore go to a writer of their own; the fleet's batches never hold them.
 *
 * A message goes whole to one writer, so it still commits in one transaction. Two messages of one device may
 * commit out of order across the writers; the latest-value upsert keeps the newer value either way, and MQTT
 * acknowledges in order regardless.
 */
export class TelemetryLanes {
  constructor(
    private readonly fleet: TelemetryWriter,
    private readonly late?: LateLane,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves once every point is committed (see TelemetryWriter.write). */
  write(deviceId: string, points: TelemetryPoint[]): Promise<void> {
    return this.writerFor(points).write(deviceId, points);
  }

  get pendingRows(): number {
    return this.fleet.pendingRows + (this.late?.writer.pendingRows ?? 0);
  }

  get underPressure(): boolean {
    return this.fleet.underPressure || Boolean(this.late?.writer.underPressure);
  }

  get databaseUnavailable(): boolean {
    return this.fleet.databaseUnavailable || Boolean(this.late?.writer.databaseUnavailable);
  }

  async flush(): Promise<void> {
    await Promise.all([this.fleet.flush(), this.late?.writer.flush()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.fleet.close(), this.late?.writer.close()]);
  }

  private writerFor(points: TelemetryPoint[]): TelemetryWriter {
    if (!this.late) return this.fleet;
    const horizon = this.now() - this.late.ageMs;
    for (const point of points) if (point.time < horizon) return this.late.writer;
    return this.fleet;
  }
}
