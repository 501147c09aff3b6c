import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/hub-config.js';
import type { DeviceEventRecorder } from '../events/device-event.recorder.js';
import type { CloseReason, DeviceConnection } from './device-connection.js';
import type { DevicePresence } from './device-presence.js';
import { FlowControl } from './flow-control.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { SessionTable } from './session-table.js';

/** A session whose drain and end the test settles, recording what is done to it in `log`. */
function fakeConnection(deviceId: string, log: string[]) {
  let drained!: () => void;
  let end!: () => void;
  const connection: DeviceConnection = {
    deviceId,
    transport: 'ws',
    connectedAt: 0,
    details: { mqttProtocolLevel: 4, clientId: 'client-1', keepAliveSeconds: 60, remoteAddress: '127.0.0.1' },
    pause: () => void log.push(`${deviceId} pause`),
    resume: () => void log.push(`${deviceId} resume`),
    close: (reason: CloseReason) => void log.push(`${deviceId} close ${reason}`),
    drain: () =>
      new Promise<void>((resolve) => {
        log.push(`${deviceId} drain`);
        drained = resolve;
      }),
    ended: new Promise<void>((resolve) => {
      end = resolve;
    }),
    acceptsCommands: false,
    commandCapacity: 0,
    sendCommand: () => false,
  };
  return Object.assign(connection, { drained: () => drained(), end: () => end() });
}

function makeLifecycle() {
  const log: string[] = [];
  const config = loadConfig({ TELEHUB_CLOSE_GRACE_MS: '1000' });
  const table = new SessionTable(config);
  const recorder = { record: () => undefined } as unknown as DeviceEventRecorder;
  const flow = new FlowControl(recorder, config, pino({ level: 'silent' }));
  // Presence as the lifecycle uses it: which device went online, ended, offline.
  const presence = {
    online: async (connection: DeviceConnection) => void log.push(`${connection.deviceId} online`),
    ended: (connection: DeviceConnection, reason: string) => void log.push(`${connection.deviceId} ended ${reason}`),
    offline: (connection: DeviceConnection, reason: string) =>
      void log.push(`${connection.deviceId} offline ${reason}`),
  };
  const lifecycle = new SessionLifecycle(table, flow, presence as unknown as DevicePresence, config);
  return { lifecycle, table, flow, log };
}

describe('SessionLifecycle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a new session take over: the old one is closed and its end does not mark the device offline', async () => {
    const { lifecycle, table, log } = makeLifecycle();
    const first = fakeConnection('a', log);
    const second = fakeConnection('a', log);
    await lifecycle.open(first);
    await lifecycle.open(second);
    expect(table.get('a')).toBe(second);
    lifecycle.closed(first, 'taken_over');
    lifecycle.closed(second, 'client_disconnect');
    expect(log).toEqual([
      'a online',
      'a close taken_over',
      'a online',
      'a ended taken_over',
      'a ended client_disconnect',
      'a offline client_disconnect',
    ]);
    expect(table.size).toBe(0);
  });

  it('meters a session from the moment it opens and stops when it closes', async () => {
    const { lifecycle, flow, log } = makeLifecycle();
    const device = fakeConnection('a', log);
    flow.setPressure(true);
    // Paused (under back-pressure) before it is recorded online: it is metered from its first message.
    await lifecycle.open(device);
    lifecycle.closed(device, 'client_disconnect');
    // Closed, it is no longer metered: the end of the back-pressure does not touch it.
    flow.setPressure(false);
    expect(log).toEqual(['a pause', 'a online', 'a ended client_disconnect', 'a offline client_disconnect']);
  });

  it('at shutdown stops reading, waits for acknowledgements, then closes and waits for the sessions to end', async () => {
    const { lifecycle, log } = makeLifecycle();
    const a = fakeConnection('a', log);
    const b = fakeConnection('b', log);
    await lifecycle.open(a);
    await lifecycle.open(b);
    log.length = 0;
    let done = false;
    const closing = lifecycle.closeAll('server_shutdown', 10_000).then((closed) => {
      done = true;
      return closed;
    });
    expect(log).toEqual(['a pause', 'b pause', 'a drain', 'b drain']);
    a.drained();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).not.toContain('a close server_shutdown');
    b.drained();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.slice(4)).toEqual(['a close server_shutdown', 'b close server_shutdown']);
    a.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    b.end();
    expect(await closing).toBe(2);
  });

  it('bounds the shutdown: sessions that never drain or end are closed and given up on after their timeouts', async () => {
    vi.useFakeTimers();
    const { lifecycle, log } = makeLifecycle();
    const stuck = fakeConnection('a', log);
    await lifecycle.open(stuck);
    let done = false;
    void lifecycle.closeAll('server_shutdown', 500).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(log).not.toContain('a close server_shutdown');
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toContain('a close server_shutdown');
    // Twice TELEHUB_CLOSE_GRACE_MS for a transport that fails to cut the device off itself.
    await vi.advanceTimersByTimeAsync(1999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });
});
