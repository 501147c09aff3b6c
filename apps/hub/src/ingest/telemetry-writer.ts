import { backoffDelay } from '@telehub/contracts';
import { isDataError, type TelemetryBatch } from '@telehub/db';
import type { IngestSettings } from '../config/hub-config.js';
import { newestPerMetric } from './newest-per-metric.js';
import type { TelemetryPoint } from './telemetry-payload.js';

/** The first retry of a failed batch waits about this long; later ones double up to `retryMaxMs`. */
const RETRY_INITIAL_MS = 100;

/**
 * The hub's TELEHUB_INGEST_* settings (batch size and wait, batches in flight, water marks, retry cap); how a
 * batch is written is the writeBatch hook's business.
 */
export type TelemetryWriterOptions = Omit<IngestSettings, 'writeMethod'>;

export interface TelemetryWriterHooks {
  /**
   * The hub passes TelemetryRepository.copyBatchWithLatest (or insertBatchWithLatest), which resolves to the
   * committing transaction's id (a string); anything else resolves to no id. A rejection with a data error
   * (SQLSTATE 22/23) must mean that nothing of the batch was committed.
   */
  writeBatch(batch: TelemetryBatch, latest: TelemetryBatch): Promise<unknown>;
  /**
   * After commit, once per batch, its rows in arrival order (feeds live dashboards). Do not modify it.
   * `messages`: the write() calls whose last rows are in this batch (a split write counts once, in its last batch).
   */
  onCommitted?(batch: TelemetryBatch, committedAt: number, messages: number, xid: string | undefined): void;
  /** Only on transitions. */
  onPressure?(high: boolean): void;
  /** Per committed batch: its rows and how long the successful writeBatch call took. */
  onFlush?(rows: number, durationMs: number): void;
  /** Per failed attempt: `attempt` counts the failures in a row since the database was last available. */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** A message's rows were refused by the database (a data error): its write() rejected with RowsRefusedError. */
  onRefused?(rows: number, error: unknown): void;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

export class WriterClosedError extends Error {
  readonly code = 'writer_closed';

  constructor() {
    super('the telemetry writer is closed');
    this.name = 'WriterClosedError';
  }
}

/**
 * A message's rows that the database refused with a data error (SQLSTATE class 22 or 23): sending them again
 * would fail again, so the message is refused instead of retried. `cause` is the database's error.
 */
export class RowsRefusedError extends Error {
  readonly code = 'data_rejected';

  constructor(cause: unknown) {
    super('the database refused these rows', { cause });
    this.name = 'RowsRefusedError';
  }
}

/** One write() call (or one flush()): settled when every batch holding a part of it has committed. */
interface Ticket {
  parts: number;
  resolve(): void;
  reject(error: Error): void;
}

/** The rows of one write() call in a batch, in order: a write larger than a batch has a part in each. */
interface Part {
  ticket: Ticket;
  rows: number;
  /** The write's last part: the message counts as committed with this batch. */
  last: boolean;
}

/** Rows kept column by column, ready to bind as the four array parameters of the insert. */
class Batch {
  readonly data: TelemetryBatch = { times: [], deviceIds: [], metrics: [], values: [] };
  readonly parts: Part[] = [];
  /** flush() calls waiting for this batch to settle. */
  readonly waiters: Ticket[] = [];
  /** Computed on the first attempt and kept, so a retry sends exactly the same statement. */
  latest: TelemetryBatch | undefined;

  constructor(readonly seq: number) {}

  get rows(): number {
    return this.data.times.length;
  }

  /** write() calls that end in this batch. */
  get messages(): number {
    let messages = 0;
    for (const part of this.parts) if (part.last) messages += 1;
    return messages;
  }

  /** Two batches of the same seq holding the first and second half of the parts (never splitting a part). */
  split(): [Batch, Batch] {
    const half = Math.ceil(this.parts.length / 2);
    const first = new Batch(this.seq);
    const second = new Batch(this.seq);
    let row = 0;
    this.parts.forEach((part, index) => {
      const target = index < half ? first : second;
      copyRows(this.data, target.data, row, row + part.rows);
      target.parts.push(part);
      row += part.rows;
    });
    // A flush waiting for this batch now waits for both halves.
    for (const waiter of this.waiters) {
      waiter.parts += 1;
      first.waiters.push(waiter);
      second.waiters.push(waiter);
    }
    return [first, second];
  }
}

interface Outage {
  since: number;
  failures: number;
}

/**
 * The one writer all transports feed. Rows from every device gather in one open batch, which is sealed and
 * written as one statement:
 * - at once (next tick, so rows of the same tick join) when nothing is being written: low latency under light load;
 * - while batches are in flight, when it reaches `batchRows` or its first row has waited `batchMs`, using the next
 *   free slot (at most `maxInflight`). A batch that waits for a slot keeps gathering rows up to `batchRows`: sealing
 *   it earlier would only make the statement smaller, not start it sooner.
 *
 * A write() of at most `batchRows` points is never split: it lands in one batch, so one device message commits in
 * one transaction and a redelivery after a crash repeats a whole message or nothing. A larger write fills the open
 * batch and then whole batches; its promise settles when its last piece commits.
 *
 * Nothing is dropped while the database is unavailable: a failed batch goes back to the head of the queue and the
 * database is probed with one batch at a time, after exponential backoff, until a write succeeds; then every slot
 * is used again. A batch refused with a data error is different: retrying it would fail forever and stall every
 * device. It is split in halves (at message boundaries) and written again until the refused message is alone; that
 * message's write() rejects with RowsRefusedError and every other message commits.
 */
export class TelemetryWriter {
  private open = new Batch(0);
  private nextSeq = 1;
  /** Sealed batches waiting for a slot, oldest (lowest seq) first. */
  private readonly queue: Batch[] = [];
  private readonly inflight = new Set<Batch>();
  private uncommitted = 0;
  private pressure = false;
  private closed = false;
  /** The open batch should be written at the next free slot (its batchMs passed, or the pipeline went idle). */
  private openDue = false;
  private batchTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private outage: Outage | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** During an outage: the backoff delay has passed, one batch may probe the database. */
  private retryDue = false;

  constructor(
    private readonly options: TelemetryWriterOptions,
    private readonly hooks: TelemetryWriterHooks,
  ) {}

  /** Rows accepted and not yet committed: queued plus in flight. */
  get pendingRows(): number {
    return this.uncommitted;
  }

  get underPressure(): boolean {
    return this.pressure;
  }

  /** The last write failed for a reason other than its data, and none has succeeded since. */
  get databaseUnavailable(): boolean {
    return this.outage !== undefined;
  }

  /** Resolves once every given point is committed. Never drops data; rejects only with WriterClosedError after close() began. */
  write(deviceId: string, points: TelemetryPoint[]): Promise<void> {
    if (this.closed) return Promise.reject(new WriterClosedError());
    const count = points.length;
    if (count === 0) return Promise.resolve();
    const { batchRows } = this.options;
    if (this.open.rows > 0 && this.open.rows + count > batchRows && count <= batchRows) this.seal();

    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const committed = new Promise<void>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    const ticket: Ticket = { parts: 0, resolve, reject };
    for (let from = 0; from < count; ) {
      const batch = this.open;
      const to = Math.min(count, from + batchRows - batch.rows);
      appendRows(batch.data, deviceId, points, from, to);
      batch.parts.push({ ticket, rows: to - from, last: to === count });
      ticket.parts += 1;
      from = to;
      if (batch.rows >= batchRows) this.seal();
    }
    this.uncommitted += count;
    this.updatePressure();
    if (this.queue.length > 0) this.pump();
    this.scheduleOpen();
    return committed;
  }

  /** Writes everything accepted so far; resolves when all of it is committed (used at shutdown). */
  flush(): Promise<void> {
    if (this.open.rows > 0) this.seal();
    const outstanding = this.inflight.size + this.queue.length;
    if (outstanding === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const ticket: Ticket = { parts: outstanding, resolve, reject: () => resolve() };
      for (const batch of this.inflight) batch.waiters.push(ticket);
      for (const batch of this.queue) batch.waiters.push(ticket);
      this.pump();
    });
  }

  /** Stop accepting (new writes reject), then flush. */
  close(): Promise<void> {
    this.closed = true;
    return this.flush();
  }

  /** Arms the triggers that will send the open batch: next tick if the pipeline is idle, batchMs in any case. */
  private scheduleOpen(): void {
    if (this.open.rows === 0) return;
    this.batchTimer ??= setTimeout(this.onBatchTimer, this.options.batchMs);
    if (this.immediate === undefined && this.inflight.size === 0 && this.queue.length === 0) {
      this.immediate = setImmediate(this.onImmediate);
    }
  }

  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    // Re-checked: a full batch may have taken the pipeline since; then these rows gather for batchMs.
    if (this.inflight.size === 0 && this.queue.length === 0) {
      this.openDue = true;
      this.pump();
    }
  };

  private readonly onBatchTimer = (): void => {
    this.batchTimer = undefined;
    this.openDue = true;
    this.pump();
  };

  /** Moves the open batch to the queue and starts a new one. */
  private seal(): void {
    this.queue.push(this.open);
    this.open = new Batch(this.nextSeq++);
    this.openDue = false;
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  /** Starts queued batches (then the open one, if due) while a slot is free. */
  private pump(): void {
    while (this.hasFreeSlot()) {
      if (this.queue.length === 0) {
        if (!this.openDue || this.open.rows === 0) return;
        this.seal();
      }
      this.start(this.queue.shift()!);
    }
  }

  private hasFreeSlot(): boolean {
    // During an outage one batch at a time probes the database, and only once its backoff delay has passed.
    if (this.outage) return this.retryDue && this.inflight.size === 0;
    return this.inflight.size < this.options.maxInflight;
  }

  private start(batch: Batch): void {
    this.inflight.add(batch);
    this.retryDue = false;
    batch.latest ??= newestPerMetric(batch.data);
    const started = performance.now();
    let written: Promise<unknown>;
    try {
      written = this.hooks.writeBatch(batch.data, batch.latest);
    } catch (error) {
      written = Promise.reject(error);
    }
    written.then(
      (xid) => this.committed(batch, performance.now() - started, typeof xid === 'string' ? xid : undefined),
      (error: unknown) => this.failed(batch, error),
    );
  }

  private committed(batch: Batch, durationMs: number, xid: string | undefined): void {
    this.inflight.delete(batch);
    const rows = batch.rows;
    this.uncommitted -= rows;
    if (this.outage) this.recovered(rows);
    for (const part of batch.parts) settlePart(part.ticket);
    for (const waiter of batch.waiters) settlePart(waiter);
    const { onCommitted, onFlush } = this.hooks;
    if (onCommitted) {
      const committedAt = Date.now();
      this.safely('onCommitted', () => onCommitted(batch.data, committedAt, batch.messages, xid));
    }
    if (onFlush) this.safely('onFlush', () => onFlush(rows, durationMs));
    this.updatePressure();
    // The pipeline went idle: rows that gathered meanwhile go now rather than at their batchMs.
    if (this.inflight.size === 0 && this.queue.length === 0 && this.open.rows > 0) this.openDue = true;
    this.pump();
  }

  private failed(batch: Batch, error: unknown): void {
    this.inflight.delete(batch);
    if (isDataError(error)) {
      this.refused(batch, error);
      return;
    }
    this.requeue(batch);
    if (!this.outage) {
      this.outage = { since: Date.now(), failures: 0 };
      this.hooks.log?.error(
        { err: error, pendingRows: this.uncommitted },
        'database unavailable: holding telemetry and retrying until it recovers',
      );
    }
    const attempt = ++this.outage.failures;
    const delayMs = backoffDelay(attempt, { initialMs: RETRY_INITIAL_MS, maxMs: this.options.retryMaxMs });
    const { onRetry } = this.hooks;
    if (onRetry) this.safely('onRetry', () => onRetry(error, attempt, delayMs));
    clearTimeout(this.retryTimer);
    this.retryDue = false;
    this.retryTimer = setTimeout(this.onRetryTimer, delayMs);
  }

  /** Back to the queue in seq order, so the oldest rows are written first and batches keep their order. */
  private requeue(...batches: Batch[]): void {
    const after = this.queue.findIndex((queued) => queued.seq > batches[0]!.seq);
    this.queue.splice(after === -1 ? this.queue.length : after, 0, ...batches);
  }

  /**
   * The database answered, and refused something in this batch. With several messages, each half is written on
   * its own (log2 of the batch's messages rounds find the culprit); a single message is refused.
   */
  private refused(batch: Batch, error: unknown): void {
    // The database answered: whatever outage there was is over.
    if (this.outage) this.recovered(0);
    if (batch.parts.length > 1) {
      this.requeue(...batch.split());
    } else {
      const rows = batch.rows;
      this.uncommitted -= rows;
      for (const part of batch.parts) part.ticket.reject(new RowsRefusedError(error));
      for (const waiter of batch.waiters) settlePart(waiter);
      const { onRefused } = this.hooks;
      if (onRefused) this.safely('onRefused', () => onRefused(rows, error));
      this.updatePressure();
    }
    this.pump();
  }

  private readonly onRetryTimer = (): void => {
    this.retryTimer = undefined;
    this.retryDue = true;
    this.pump();
  };

  private recovered(rowsWritten: number): void {
    const outage = this.outage!;
    this.outage = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDue = false;
    this.hooks.log?.info(
      {
        downtimeMs: Date.now() - outage.since,
        failedAttempts: outage.failures,
        rowsWritten,
        backlogRows: this.uncommitted,
      },
      'database available again: telemetry writes resumed',
    );
  }

  private updatePressure(): void {
    const { highWaterRows, lowWaterRows } = this.options;
    if (!this.pressure && this.uncommitted > highWaterRows) this.setPressure(true);
    else if (this.pressure && this.uncommitted < lowWaterRows) this.setPressure(false);
  }

  private setPressure(high: boolean): void {
    this.pressure = high;
    const { onPressure } = this.hooks;
    if (onPressure) this.safely('onPressure', () => onPressure(high));
  }

  /** A hook that throws must not leave write() promises unsettled or the writer half-updated. */
  private safely(hook: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.hooks.log?.error({ err: error, hook }, 'telemetry writer hook threw');
    }
  }
}

function settlePart(ticket: Ticket): void {
  ticket.parts -= 1;
  if (ticket.parts === 0) ticket.resolve();
}

function copyRows(from: TelemetryBatch, to: TelemetryBatch, start: number, end: number): void {
  for (let index = start; index < end; index++) {
    to.times.push(from.times[index]!);
    to.deviceIds.push(from.deviceIds[index]!);
    to.metrics.push(from.metrics[index]!);
    to.values.push(from.values[index]!);
  }
}

function appendRows(data: TelemetryBatch, deviceId: string, points: TelemetryPoint[], from: number, to: number): void {
  const { times, deviceIds, metrics, values } = data;
  for (let index = from; index < to; index++) {
    const point = points[index]!;
    times.push(point.time);
    deviceIds.push(deviceId);
    metrics.push(point.metric);
    values.push(point.value);
  }
}
