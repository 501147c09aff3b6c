import type { DevicePresenceRepository, PresenceChange } from '@telehub/db';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/hub-config.js';
import type { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { type HubEventOf, HubEvents } from '../events/hub-events.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import type { DeviceConnection } from './device-connection.js';
import { DevicePresence } from './device-presence.js';

/** The presence repository, recording what it is asked to write. */
class FakePresenceRepository {
  readonly changes: PresenceChange[][] = [];
  readonly touched: string[][] = [];
  readonly markedOffline: [string, string][] = [];
  failTouch = false;

  async applyPresence(changes: PresenceChange[]): Promise<void> {
    this.changes.push(changes);
  }
  async touchLastSeen(deviceIds: string[]): Promise<void> {
    if (this.failTouch) throw new Error('database unavailable');
    this.touched.push(deviceIds);
  }
  async markNodeOffline(node: string, reason: string): Promise<number> {
    this.markedOffline.push([node, reason]);
    return 2;
  }
}

const connection = (deviceId: string, connectedAt = 1000): DeviceConnection => ({
  deviceId,
  transport: 'mqtt',
  connectedAt,
  details: { mqttProtocolLevel: 4, clientId: 'client-1', keepAliveSeconds: 60, remoteAddress: '127.0.0.1' },
  pause: () => undefined,
  resume: () => undefined,
  close: () => undefined,
  drain: async () => undefined,
  ended: Promise.resolve(),
  acceptsCommands: false,
  commandCapacity: 0,
  sendCommand: () => false,
});

const instances: DevicePresence[] = [];

function makePresence() {
  const repository = new FakePresenceRepository();
  const events: { deviceId: string | null; type: string; detail: Record<string, unknown>; at?: number }[] = [];
  const recorder: Pick<DeviceEventRecorder, 'record'> = {
    record: (deviceId, type, detail = {}, at) => void events.push({ deviceId, type, detail, at }),
  };
  const hubEvents = new HubEvents();
  const presenceEvents: HubEventOf<'presence'>[] = [];
  hubEvents.on('presence', (event) => presenceEvents.push(event));
  const metrics = new HubMetrics();
  const config = loadConfig({ TELEHUB_NODE_ID: 'node-1' });
  const presence = new DevicePresence(
    repository as unknown as DevicePresenceRepository,
    recorder as DeviceEventRecorder,
    hubEvents,
    metrics,
    config,
    pino({ level: 'silent' }),
  );
  instances.push(presence);
  return { presence, repository, events, presenceEvents, metrics };
}

async function connectionsGauge(metrics: HubMetrics): Promise<number> {
  const { values } = await metrics.connections.get();
  return values.find((value) => value.labels.transport === 'mqtt')?.value ?? 0;
}

describe('DevicePresence', () => {
  afterEach(async () => {
    for (const presence of instances.splice(0)) await presence.onModuleDestroy();
  });

  it('records a session opening: presence row, event, live presence, metrics', async () => {
    const { presence, repository, events, presenceEvents, metrics } = makePresence();
    await presence.online(connection('a', 1000));
    const session = { mqttProtocolLevel: 4, clientId: 'client-1', keepAliveSeconds: 60, remoteAddress: '127.0.0.1' };
    expect(repository.changes).toEqual([
      [{ deviceId: 'a', online: true, node: 'node-1', transport: 'mqtt', connectedAt: 1000, session, at: 1000 }],
    ]);
    expect(events).toEqual([
      { deviceId: 'a', type: 'connected', detail: { transport: 'mqtt', node: 'node-1' }, at: 1000 },
    ]);
    expect(presenceEvents).toEqual([
      {
        type: 'presence',
        deviceId: 'a',
        online: true,
        transport: 'mqtt',
        at: 1000,
        session: { ...session, node: 'node-1' },
      },
    ]);
    expect(await connectionsGauge(metrics)).toBe(1);
  });

  it("stores a device's client id cut to TELEHUB_EVENT_MAX_STRING_BYTES and without what PostgreSQL refuses", async () => {
    const { presence, repository, presenceEvents } = makePresence();
    const hostile = { ...connection('a', 1000) };
    const details = { mqttProtocolLevel: 5 as const, clientId: `x\u0000${'é'.repeat(5000)}`, keepAliveSeconds: 0 };
    await presence.online({ ...hostile, details: { ...details, remoteAddress: null } });
    const stored = repository.changes[0]![0]!.session!;
    expect(stored.clientId).toMatch(/^x\ufffdé+… \(10004 bytes\)$/);
    expect(new TextEncoder().encode(stored.clientId!).length).toBeLessThanOrEqual(256);
    expect(stored).toMatchObject({ mqttProtocolLevel: 5, keepAliveSeconds: 0, remoteAddress: null });
    expect(presenceEvents[0]!.session).toEqual({ ...stored, node: 'node-1' });
  });

  it('records every ended session, but only an offline device changes presence', async () => {
    const { presence, repository, events, presenceEvents, metrics } = makePresence();
    const taken = connection('a', 1000);
    const current = connection('a', 2000);
    await presence.online(taken);
    await presence.online(current);
    presence.ended(taken, 'taken_over', 2001);
    expect(repository.changes).toHaveLength(2);
    presence.ended(current, 'client_disconnect', 3000);
    presence.offline(current, 'client_disconnect', 3000);
    await presence.onModuleDestroy();
    expect(events.filter((event) => event.type === 'disconnected')).toEqual([
      { deviceId: 'a', type: 'disconnected', detail: { transport: 'mqtt', reason: 'taken_over' }, at: 2001 },
      { deviceId: 'a', type: 'disconnected', detail: { transport: 'mqtt', reason: 'client_disconnect' }, at: 3000 },
    ]);
    expect(repository.changes.at(-1)).toEqual([
      {
        deviceId: 'a',
        online: false,
        node: 'node-1',
        transport: 'mqtt',
        connectedAt: 2000,
        reason: 'client_disconnect',
        at: 3000,
      },
    ]);
    expect(presenceEvents.at(-1)).toEqual({
      type: 'presence',
      deviceId: 'a',
      online: false,
      transport: 'mqtt',
      reason: 'client_disconnect',
      at: 3000,
    });
    expect(await connectionsGauge(metrics)).toBe(0);
  });

  it('writes last-seen times coalesced, once per device, and forgets a device that went offline', async () => {
    const { presence, repository } = makePresence();
    presence.markSeen('a');
    presence.markSeen('b');
    presence.markSeen('a');
    presence.markSeen('c');
    presence.offline(connection('c'), 'client_disconnect', 5000);
    await presence.flushLastSeen();
    await presence.flushLastSeen();
    expect(repository.touched).toEqual([['a', 'b']]);
  });

  it('does not throw when last-seen times cannot be written', async () => {
    const { presence, repository } = makePresence();
    repository.failTouch = true;
    presence.markSeen('a');
    await expect(presence.flushLastSeen()).resolves.toBeUndefined();
  });

  it('marks devices this node left online offline at start, and writes what is pending when it stops', async () => {
    const { presence, repository } = makePresence();
    await presence.onApplicationBootstrap();
    expect(repository.markedOffline).toEqual([['node-1', 'hub_restart']]);
    void presence.online(connection('a'));
    presence.markSeen('a');
    await presence.onModuleDestroy();
    expect(repository.changes).toHaveLength(1);
    expect(repository.touched).toEqual([['a']]);
  });
});
