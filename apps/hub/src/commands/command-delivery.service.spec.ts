import type { CommandMessage, CommandStatus } from '@telehub/contracts';
import type {
  CommandDeviceEvent,
  CommandNotice,
  CommandRecord,
  CommandRepository,
  TransitionChange,
} from '@telehub/db';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { HubConfig } from '../config/hub-config.js';
import type { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { type HubEvent, HubEvents } from '../events/hub-events.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import type { CloseReason, DeviceConnection } from '../sessions/device-connection.js';
import type { SessionTable } from '../sessions/session-table.js';
import { CommandDeliveryService } from './command-delivery.service.js';

const DEVICE = '0196a1f2-7c3e-7a00-8000-00000000000d';
const OTHER_DEVICE = '0196a1f2-7c3e-7a00-8000-00000000000e';
const commandId = (n: number) => `0196a1f2-7c3e-7a00-8000-${String(n).padStart(12, '0')}`;

/** The outbox in memory, with the repository's rules: a row moves only out of one of `from`, of its own device. */
class FakeCommands {
  readonly rows = new Map<string, CommandRecord>();
  readonly calls: string[] = [];
  /** Set to make the next statement wait for the test (or fail). */
  hold: Promise<void> | undefined;
  failNext: unknown;
  onNotice: ((notice: CommandNotice, event: CommandDeviceEvent) => void) | undefined;
  onListen: (() => void) | undefined;

  add(n: number, status: CommandStatus = 'queued', deviceId = DEVICE): CommandRecord {
    const row: CommandRecord = {
      id: commandId(n),
      deviceId,
      name: `c${n}`,
      params: {},
      status,
      idempotencyKey: null,
      createdAt: n,
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
      sentAt: null,
      deliveredAt: null,
      finishedAt: null,
      sendCount: 0,
      result: null,
      error: null,
      transitions: [],
    };
    this.rows.set(row.id, row);
    return row;
  }

  async listen(
    onNotice: (notice: CommandNotice, event: CommandDeviceEvent) => void,
    onListen: () => void,
  ): Promise<() => Promise<void>> {
    this.onNotice = onNotice;
    this.onListen = onListen;
    onListen();
    return async () => undefined;
  }

  async claimForDelivery(deviceId: string, exclude: readonly string[], limit: number): Promise<CommandRecord[]> {
    await this.statement(`claim ${deviceId === DEVICE ? 'device' : deviceId} except ${exclude.length}`);
    const due = [...this.rows.values()]
      .filter((row) => row.deviceId === deviceId && ['queued', 'sent'].includes(row.status))
      .filter((row) => !exclude.includes(row.id))
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit);
    for (const row of due) {
      row.status = 'sent';
      row.sendCount += 1;
    }
    return due.map((row) => ({ ...row }));
  }

  async transition(ids: readonly string[], change: TransitionChange): Promise<CommandRecord[]> {
    await this.statement(`${change.to} ${ids.join(',')}`);
    const moved: CommandRecord[] = [];
    for (const id of ids) {
      const row = this.rows.get(id);
      if (!row || !change.from.includes(row.status)) continue;
      if (change.deviceId !== undefined && row.deviceId !== change.deviceId) continue;
      Object.assign(row, { status: change.to }, change.result === undefined ? {} : { result: change.result });
      if (change.error !== undefined) row.error = change.error;
      moved.push({ ...row });
    }
    return moved;
  }

  async findById(id: string): Promise<CommandRecord | undefined> {
    const row = this.rows.get(id);
    return row && { ...row };
  }

  private async statement(call: string): Promise<void> {
    this.calls.push(call);
    const hold = this.hold;
    if (hold) await hold;
    const failure = this.failNext;
    if (failure !== undefined) {
      this.failNext = undefined;
      throw failure;
    }
  }
}

/** A device session that takes `capacity` commands before it acknowledges some. */
class FakeConnection implements DeviceConnection {
  readonly transport = 'ws' as const;
  readonly connectedAt = 0;
  readonly details = { mqttProtocolLevel: null, clientId: null, keepAliveSeconds: 30, remoteAddress: '127.0.0.1' };
  readonly ended = new Promise<unknown>(() => undefined);
  readonly sent: CommandMessage[] = [];
  acceptsCommands = true;

  constructor(
    readonly deviceId: string,
    private capacity = 100,
  ) {}

  get commandCapacity(): number {
    return this.capacity;
  }

  sendCommand(command: CommandMessage): boolean {
    if (this.capacity <= 0) return false;
    this.capacity -= 1;
    this.sent.push(command);
    return true;
  }

  /** The device acknowledged one: a slot of its window is free again. */
  freeSlot(): void {
    this.capacity += 1;
  }

  pause(): void {}
  resume(): void {}
  close(_reason: CloseReason): void {}
  async drain(): Promise<void> {}
}

function setup() {
  const commands = new FakeCommands();
  const connections = new Map<string, FakeConnection>();
  const registry = {
    get: (deviceId: string) => connections.get(deviceId),
    deviceIds: () => [...connections.keys()],
    sessionIdOf: (connection: FakeConnection) => `session of ${connection.deviceId}`,
  };
  const hubEvents = new HubEvents();
  const emitted: HubEvent[] = [];
  for (const type of ['command', 'device_event'] as const) hubEvents.on(type, (event) => emitted.push(event));
  const refusals: { deviceId: string | null; type: string; detail: Record<string, unknown> }[] = [];
  const recorder = {
    record: (deviceId: string | null, type: string, detail = {}) => refusals.push({ deviceId, type, detail }),
  };
  const metrics = new HubMetrics();
  const config = { payloads: { jsonMaxDepth: 8 } } as HubConfig;
  const service = new CommandDeliveryService(
    commands as unknown as CommandRepository,
    registry as unknown as SessionTable,
    hubEvents,
    recorder as unknown as DeviceEventRecorder,
    metrics,
    config,
    pino({ level: 'silent' }),
  );
  const connect = (deviceId = DEVICE, capacity?: number) => {
    const connection = new FakeConnection(deviceId, capacity);
    connections.set(deviceId, connection);
    return connection;
  };
  return { service, commands, connections, connect, emitted, refusals, metrics };
}

/** Lets the per-device queue run what it was given. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function notice(n: number, status: CommandStatus, deviceId = DEVICE): [CommandNotice, CommandDeviceEvent] {
  const at = 1_700_000_000_000 + n;
  return [
    { id: commandId(n), deviceId, name: `c${n}`, status, at },
    { type: `command_${status}`, detail: { commandId: commandId(n), name: `c${n}`, marker: 'as written' }, at },
  ];
}

describe('CommandDeliveryService', () => {
  it('sends a connection what waits for it, oldest first, claimed before it is written', async () => {
    const { service, commands, connect } = setup();
    await service.onApplicationBootstrap();
    commands.add(2);
    commands.add(1);
    commands.add(3, 'delivered');
    const connection = connect();
    service.connectionReady(connection);
    await settle();
    expect(connection.sent.map((command) => command.name)).toEqual(['c1', 'c2']);
    expect(connection.sent[0]).toEqual({
      id: commandId(1),
      name: 'c1',
      params: {},
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    expect([...commands.rows.values()].map((row) => row.status)).toEqual(['sent', 'sent', 'delivered']);
  });

  it('sends nothing to a connection that does not take commands yet (MQTT: before it subscribes)', async () => {
    const { service, commands, connect } = setup();
    commands.add(1);
    const connection = connect();
    connection.acceptsCommands = false;
    service.connectionReady(connection);
    await settle();
    expect(connection.sent).toEqual([]);
    expect(commands.calls).toEqual([]);
  });

  it('fills the device window, and sends the rest as the device acknowledges', async () => {
    const { service, commands, connect } = setup();
    for (const n of [1, 2, 3]) commands.add(n);
    const connection = connect(DEVICE, 2);
    service.connectionReady(connection);
    await settle();
    expect(connection.sent.map((command) => command.name)).toEqual(['c1', 'c2']);

    connection.freeSlot();
    expect(await service.acknowledged(DEVICE, commandId(1))).toEqual({ ok: true });
    await settle();
    expect(connection.sent.map((command) => command.name)).toEqual(['c1', 'c2', 'c3']);
    // The claim after the acknowledgement leaves out what this connection already has.
    expect(commands.calls).toEqual(['claim device except 0', `delivered ${commandId(1)}`, 'claim device except 2']);
  });

  it('relays each notice with the device event it carries, and delivers a new command at once', async () => {
    const { service, commands, connect, emitted, metrics } = setup();
    await service.onApplicationBootstrap();
    const connection = connect();
    commands.add(1);
    commands.onNotice!(...notice(1, 'queued'));
    await settle();
    expect(connection.sent.map((command) => command.id)).toEqual([commandId(1)]);
    expect(emitted).toEqual([
      { type: 'command', ...notice(1, 'queued')[0] },
      {
        type: 'device_event',
        deviceId: DEVICE,
        eventType: 'command_queued',
        detail: { commandId: commandId(1), name: 'c1', marker: 'as written' },
        at: notice(1, 'queued')[1].at,
        // Every hub process hears the command notice and emits this event itself: none forwards it to the others.
        everyProcess: true,
      },
    ]);
    expect(await metrics.registry.getSingleMetricAsString('telehub_command_transitions_total')).toContain(
      'telehub_command_transitions_total{status="queued"} 1',
    );
  });

  it('looks for waiting commands of every connected device when the notice connection comes back', async () => {
    const { service, commands, connect } = setup();
    await service.onApplicationBootstrap();
    const first = connect(DEVICE);
    const second = connect(OTHER_DEVICE);
    commands.add(1, 'queued', DEVICE);
    commands.add(2, 'queued', OTHER_DEVICE);
    // Notices sent while the listening connection was down are lost.
    commands.onListen!();
    await settle();
    expect(first.sent.map((command) => command.name)).toEqual(['c1']);
    expect(second.sent.map((command) => command.name)).toEqual(['c2']);
  });

  it('takes an acknowledgement twice, and refuses one for another device, an unknown or a final command', async () => {
    const { service, commands, refusals } = setup();
    commands.add(1, 'sent');
    commands.add(2, 'sent', OTHER_DEVICE);
    commands.add(3, 'succeeded');
    expect(await service.acknowledged(DEVICE, commandId(1))).toEqual({ ok: true });
    expect(await service.acknowledged(DEVICE, commandId(1))).toEqual({ ok: true });
    expect(await service.acknowledged(DEVICE, commandId(2))).toMatchObject({ ok: false, code: 'not_your_command' });
    expect(await service.acknowledged(DEVICE, commandId(9))).toMatchObject({ ok: false, code: 'unknown_command' });
    expect(await service.acknowledged(DEVICE, commandId(3))).toMatchObject({
      ok: false,
      code: 'command_final',
      message: `command ${commandId(3)} is already succeeded`,
    });
    expect(commands.rows.get(commandId(2))?.status).toBe('sent');
    expect(refusals.map(({ type, detail }) => [type, detail.code])).toEqual([
      ['command_reply_refused', 'not_your_command'],
      ['command_reply_refused', 'unknown_command'],
      ['command_reply_refused', 'command_final'],
    ]);
  });

  it('refuses a command id that is not a UUID before it reaches the database', async () => {
    const { service, commands, refusals } = setup();
    expect(await service.acknowledged(DEVICE, 'reboot')).toMatchObject({ ok: false, code: 'unknown_command' });
    expect(await service.recordResult(DEVICE, 'reboot', { status: 'ok' })).toMatchObject({
      ok: false,
      code: 'unknown_command',
    });
    expect(commands.calls).toEqual([]);
    expect(refusals.map(({ detail }) => detail.message)).toEqual([
      'command_ack: there is no command reboot',
      'command_result: there is no command reboot',
    ]);
  });

  it('stores a result as succeeded or failed, with a default error text for a failure without one', async () => {
    const { service, commands } = setup();
    commands.add(1, 'delivered');
    commands.add(2, 'sent');
    expect(await service.recordResult(DEVICE, commandId(1), { status: 'ok', result: { uptime: 5 } })).toEqual({
      ok: true,
    });
    expect(await service.recordResult(DEVICE, commandId(2), { status: 'error' })).toEqual({ ok: true });
    expect(commands.rows.get(commandId(1))).toMatchObject({ status: 'succeeded', result: { uptime: 5 } });
    expect(commands.rows.get(commandId(2))).toMatchObject({
      status: 'failed',
      result: null,
      error: 'failed without an error message',
    });
  });

  it('refuses a result that is not {"status": "ok"|"error", …}, or nests too deep, without storing it', async () => {
    const { service, commands, refusals } = setup();
    commands.add(1, 'delivered');
    const nested = JSON.parse(`${'{"a":'.repeat(10)}1${'}'.repeat(10)}`);
    for (const payload of [{ status: 'done' }, 'ok', { status: 'ok', result: nested }]) {
      expect(await service.recordResult(DEVICE, commandId(1), payload)).toMatchObject({
        ok: false,
        code: 'invalid_result',
      });
    }
    expect(commands.calls).toEqual([]);
    expect(commands.rows.get(commandId(1))?.status).toBe('delivered');
    expect(refusals).toHaveLength(3);
    expect(refusals[2]?.detail.message).toContain('nests deeper than 8 levels');
  });

  it('refuses a reply the database refuses (data_rejected), and asks for it again when the database is away', async () => {
    const { service, commands, refusals } = setup();
    commands.add(1, 'sent');
    commands.failNext = Object.assign(new Error('invalid input syntax'), { name: 'PostgresError', code: '22P02' });
    expect(await service.recordResult(DEVICE, commandId(1), { status: 'ok' })).toMatchObject({
      ok: false,
      code: 'data_rejected',
    });
    commands.failNext = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
    expect(await service.acknowledged(DEVICE, commandId(1))).toMatchObject({ ok: false, code: 'unavailable' });
    // Not the device's fault, and nothing was stored: only the data refusal is recorded against it.
    expect(refusals.map(({ detail }) => detail.code)).toEqual(['data_rejected']);
    expect(commands.rows.get(commandId(1))?.status).toBe('sent');
  });

  it('runs the steps of one device one after another, so they commit in order', async () => {
    const { service, commands } = setup();
    commands.add(1, 'sent');
    let release!: () => void;
    commands.hold = new Promise((resolve) => {
      release = resolve;
    });
    const acknowledged = service.acknowledged(DEVICE, commandId(1));
    const answered = service.recordResult(DEVICE, commandId(1), { status: 'ok' });
    await settle();
    // The result waits for the acknowledgement's statement to finish.
    expect(commands.calls).toEqual([`delivered ${commandId(1)}`]);
    commands.hold = undefined;
    release();
    expect(await acknowledged).toEqual({ ok: true });
    expect(await answered).toEqual({ ok: true });
    expect(commands.calls).toEqual([`delivered ${commandId(1)}`, `succeeded ${commandId(1)}`]);
    expect(commands.rows.get(commandId(1))?.status).toBe('succeeded');
  });
});
