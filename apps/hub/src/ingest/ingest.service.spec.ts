import type { DevicePresenceRepository, StateMerge, TelemetryBatch, TelemetryRepository } from '@telehub/db';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/hub-config.js';
import type { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { type HubEventOf, HubEvents } from '../events/hub-events.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { IngestService } from './ingest.service.js';

/** A database error as postgres.js raises it: a SQLSTATE of class 22 or 23 is a refusal of the data. */
const dataError = (code: string) => Object.assign(new Error('invalid input'), { name: 'PostgresError', code });

/** The telemetry table: records each batch; `hold()` keeps the next writes from committing until released. */
class FakeTelemetryRepository {
  readonly batches: TelemetryBatch[] = [];
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  refuseDevice: string | undefined;
  /** Statements begun, committed or not. */
  started = 0;

  hold(): () => void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
    return () => this.release();
  }

  release(): void {
    this.gate = undefined;
    this.openGate?.();
  }

  async insertBatchWithLatest(batch: TelemetryBatch): Promise<string> {
    this.started += 1;
    await this.gate;
    if (this.refuseDevice && batch.deviceIds.includes(this.refuseDevice)) throw dataError('22003');
    this.batches.push(batch);
    return '42';
  }

  /** TELEHUB_INGEST_WRITE_METHOD=copy (the default) calls this one: the same fake. */
  copyBatchWithLatest(batch: TelemetryBatch): Promise<string> {
    return this.insertBatchWithLatest(batch);
  }
}

/** The devices' reported state: merges go through `merge`, which a test may replace. */
class FakeStateRepository {
  readonly patches: [string, Record<string, unknown>][] = [];
  merge: (deviceId: string, patch: Record<string, unknown>) => Promise<StateMerge> = async (_deviceId, patch) => ({
    kind: 'merged',
    state: patch,
    updatedAt: 7,
  });

  async mergeReportedState(deviceId: string, patch: Record<string, unknown>): Promise<StateMerge> {
    this.patches.push([deviceId, patch]);
    return this.merge(deviceId, patch);
  }
}

const instances: { ingest: IngestService; telemetry: FakeTelemetryRepository }[] = [];

function makeIngest(env: Record<string, string> = {}) {
  const telemetry = new FakeTelemetryRepository();
  const state = new FakeStateRepository();
  const recorded: { deviceId: string | null; type: string; detail: Record<string, unknown> }[] = [];
  const recorder: Pick<DeviceEventRecorder, 'record'> = {
    record: (deviceId, type, detail = {}) => void recorded.push({ deviceId, type, detail }),
  };
  const hubEvents = new HubEvents();
  const committed: HubEventOf<'telemetry'>[] = [];
  const states: HubEventOf<'state'>[] = [];
  hubEvents.on('telemetry', (event) => committed.push(event));
  hubEvents.on('state', (event) => states.push(event));
  const metrics = new HubMetrics();
  const ingest = new IngestService(
    telemetry as unknown as TelemetryRepository,
    state as unknown as DevicePresenceRepository,
    recorder as DeviceEventRecorder,
    hubEvents,
    metrics,
    loadConfig({ TELEHUB_INGEST_RETRY_MAX_MS: '20', ...env }),
    pino({ level: 'silent' }),
    { ageMs: undefined },
  );
  instances.push({ ingest, telemetry });
  const heard: string[] = [];
  const pressure: boolean[] = [];
  ingest.setListener({ heard: (deviceId) => heard.push(deviceId), pressure: (high) => pressure.push(high) });
  return { ingest, telemetry, state, recorded, committed, states, metrics, heard, pressure };
}

const telemetry = (value: unknown) => Buffer.from(JSON.stringify(value));
/** A device's clock reading (epoch ms), within TELEHUB_TELEMETRY_MIN_TIME and _MAX_FUTURE_MS. */
const T = 1_732_190_000_000;

describe('IngestService', () => {
  afterEach(async () => {
    for (const { ingest, telemetry } of instances.splice(0)) {
      // A test that failed while writes were held must not leave close() waiting for them.
      telemetry.release();
      ingest.onModuleDestroy();
      await ingest.close();
    }
  });

  it('answers a telemetry message once its rows are committed, and tells that the device was heard', async () => {
    const { ingest, telemetry: table, committed, heard } = makeIngest();
    const release = table.hold();
    let answered = false;
    const outcome = ingest
      .ingestTelemetry('dev-1', 'mqtt', telemetry({ temp: 21.5, hum: 40, ts: T }))
      .then((answer) => {
        answered = true;
        return answer;
      });
    expect(heard).toEqual(['dev-1']);
    // The batch is with the database, which has not committed it: no answer yet.
    await vi.waitFor(() => expect(table.started).toBe(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(ingest.pendingRows).toBe(2);
    release();
    expect(await outcome).toEqual({ ok: true, rows: 2 });
    expect(table.batches).toEqual([
      { times: [T, T], deviceIds: ['dev-1', 'dev-1'], metrics: ['temp', 'hum'], values: [21.5, 40] },
    ]);
    expect(committed).toHaveLength(1);
    expect(committed[0]).toMatchObject({ messages: 1, xid: '42' });
    expect(ingest.pendingRows).toBe(0);
  });

  it('takes JSON a transport has already parsed', async () => {
    const { ingest, telemetry: table } = makeIngest();
    expect(
      await ingest.ingestTelemetry('dev-1', 'ws', {
        json: [
          { a: 1, ts: T },
          { a: true, ts: T + 1 },
        ],
      }),
    ).toEqual({
      ok: true,
      rows: 2,
    });
    expect(table.batches[0]?.values).toEqual([1, 1]);
  });

  it('refuses an invalid message with its code, records why, and stores nothing', async () => {
    const { ingest, telemetry: table, recorded, heard } = makeIngest({ TELEHUB_MAX_POINTS_PER_MESSAGE: '2' });
    expect(await ingest.ingestTelemetry('dev-1', 'http', Buffer.from('{"temp":'))).toMatchObject({
      ok: false,
      code: 'invalid_json',
    });
    expect(await ingest.ingestTelemetry('dev-1', 'http', telemetry({ temp: 'warm' }))).toMatchObject({
      ok: false,
      code: 'invalid_payload',
    });
    expect(await ingest.ingestTelemetry('dev-1', 'http', telemetry({ a: 1, b: 2, c: 3 }))).toMatchObject({
      ok: false,
      code: 'too_many_points',
    });
    expect(recorded.map((event) => [event.type, event.detail.code, event.detail.kind])).toEqual([
      ['message_rejected', 'invalid_json', 'telemetry'],
      ['message_rejected', 'invalid_payload', 'telemetry'],
      ['message_rejected', 'too_many_points', 'telemetry'],
    ]);
    expect(heard).toEqual([]);
    expect(table.batches).toEqual([]);
  });

  it('refuses a message the database refuses (a data error), and commits the others of its batch', async () => {
    const { ingest, telemetry: table, recorded } = makeIngest();
    table.refuseDevice = 'bad';
    const [bad, good] = await Promise.all([
      ingest.ingestTelemetry('bad', 'mqtt', telemetry({ temp: 1 })),
      ingest.ingestTelemetry('good', 'mqtt', telemetry({ temp: 2 })),
    ]);
    expect(bad).toMatchObject({ ok: false, code: 'data_rejected' });
    expect(good).toEqual({ ok: true, rows: 1 });
    expect(table.batches.flatMap((batch) => batch.deviceIds)).toEqual(['good']);
    expect(recorded).toMatchObject([{ deviceId: 'bad', type: 'message_rejected', detail: { code: 'data_rejected' } }]);
  });

  it('reports back-pressure above the high-water mark and its end below the low one; HTTP is told to come back', async () => {
    const {
      ingest,
      telemetry: table,
      pressure,
    } = makeIngest({
      TELEHUB_INGEST_HIGH_WATER_ROWS: '3',
      TELEHUB_INGEST_LOW_WATER_ROWS: '1',
    });
    const release = table.hold();
    const writes = [
      ingest.ingestTelemetry('dev-1', 'mqtt', telemetry({ a: 1, b: 2 })),
      ingest.ingestTelemetry('dev-2', 'mqtt', telemetry({ a: 1, b: 2 })),
    ];
    expect(pressure).toEqual([true]);
    expect(ingest.unavailability()).toEqual({
      ok: false,
      code: 'overloaded',
      message: expect.any(String),
      retryAfterSeconds: 1,
    });
    release();
    await Promise.all(writes);
    expect(pressure).toEqual([true, false]);
    expect(ingest.unavailability()).toBeUndefined();
  });

  it('commits what it holds on drain(), and refuses new telemetry once closed', async () => {
    const { ingest, telemetry: table } = makeIngest({ TELEHUB_INGEST_BATCH_MS: '60000' });
    const release = table.hold();
    const first = ingest.ingestTelemetry('dev-1', 'mqtt', telemetry({ a: 1 }));
    await vi.waitFor(() => expect(table.started).toBe(1));
    // A second message while the first is written would wait for the next batch (TELEHUB_INGEST_BATCH_MS).
    const second = ingest.ingestTelemetry('dev-2', 'mqtt', telemetry({ a: 2 }));
    const drained = ingest.drain();
    // drain() writes it at once, in the second slot (TELEHUB_INGEST_MAX_INFLIGHT).
    expect(table.started).toBe(2);
    release();
    await drained;
    expect(table.batches.flatMap((batch) => batch.deviceIds)).toEqual(['dev-1', 'dev-2']);
    expect(await first).toEqual({ ok: true, rows: 1 });
    expect(await second).toEqual({ ok: true, rows: 1 });
    await ingest.close();
    expect(await ingest.ingestTelemetry('dev-1', 'mqtt', telemetry({ a: 3 }))).toEqual({
      ok: false,
      code: 'unavailable',
      message: 'the hub is shutting down',
      retryAfterSeconds: 5,
    });
  });

  it('merges a state report and publishes the merged state', async () => {
    const { ingest, state, states } = makeIngest();
    expect(await ingest.reportState('dev-1', 'mqtt', Buffer.from('{"fw":"1.2"}'))).toEqual({ ok: true, rows: 0 });
    expect(state.patches).toEqual([['dev-1', { fw: '1.2' }]]);
    expect(states).toEqual([{ type: 'state', deviceId: 'dev-1', state: { fw: '1.2' }, updatedAt: 7 }]);
  });

  it('refuses a state that is not an object or would grow too large', async () => {
    const { ingest, state, recorded } = makeIngest();
    expect(await ingest.reportState('dev-1', 'mqtt', Buffer.from('[1]'))).toMatchObject({
      ok: false,
      code: 'invalid_payload',
    });
    expect(state.patches).toEqual([]);
    state.merge = async () => ({ kind: 'too_large', bytes: 70_000 });
    expect(await ingest.reportState('dev-1', 'mqtt', Buffer.from('{"big":"x"}'))).toMatchObject({
      ok: false,
      code: 'state_too_large',
    });
    expect(recorded.map((event) => event.detail.code)).toEqual(['invalid_payload', 'state_too_large']);
  });

  it('merges one device’s state reports in the order they arrived', async () => {
    const { ingest, state } = makeIngest();
    const order: string[] = [];
    state.merge = async (_deviceId, patch) => {
      // The first merge is the slowest: a second report must still not overtake it.
      if (patch.n === 1) await new Promise((resolve) => setTimeout(resolve, 20));
      order.push(`merged ${patch.n}`);
      return { kind: 'merged', state: patch, updatedAt: 1 };
    };
    await Promise.all([
      ingest.reportState('dev-1', 'mqtt', { json: { n: 1 } }),
      ingest.reportState('dev-1', 'mqtt', { json: { n: 2 } }),
    ]);
    expect(order).toEqual(['merged 1', 'merged 2']);
  });

  it('waits out an unavailable database for a socket device, and answers HTTP at once', async () => {
    const { ingest, state } = makeIngest();
    let failures = 2;
    state.merge = async (_deviceId, patch) => {
      if (failures-- > 0) throw new Error('connection refused');
      return { kind: 'merged', state: patch, updatedAt: 1 };
    };
    expect(await ingest.reportState('dev-1', 'mqtt', { json: { a: 1 } })).toEqual({ ok: true, rows: 0 });
    expect(state.patches).toHaveLength(3);
    state.merge = async () => {
      throw new Error('connection refused');
    };
    expect(await ingest.reportState('dev-1', 'http', { json: { a: 2 } }, { waitForDatabase: false })).toEqual({
      ok: false,
      code: 'unavailable',
      message: 'the database is unavailable; send the message again later',
      retryAfterSeconds: 1,
    });
    // Until a merge succeeds again, HTTP is refused before its message is read.
    expect(ingest.unavailability()).toMatchObject({ code: 'unavailable' });
  });

  it('checks a state report without applying it (an MQTT will)', () => {
    const { ingest, state } = makeIngest();
    expect(ingest.checkState(Buffer.from('{"online":false}'))).toEqual({ ok: true, value: { online: false } });
    expect(ingest.checkState(Buffer.from('"offline"'))).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(state.patches).toEqual([]);
  });

  it('counts and records a message refused before it reached ingest', async () => {
    const { ingest, recorded, metrics } = makeIngest();
    ingest.recordRejected('dev-1', 'mqtt', 'not_authorized', 'may not publish to x', { kind: 'will' });
    expect(recorded).toEqual([
      {
        deviceId: 'dev-1',
        type: 'message_rejected',
        detail: { transport: 'mqtt', code: 'not_authorized', message: 'may not publish to x', kind: 'will' },
      },
    ]);
    const { values } = await metrics.messagesRejected.get();
    expect(values).toEqual([{ value: 1, labels: { transport: 'mqtt', reason: 'not_authorized' } }]);
  });
});
