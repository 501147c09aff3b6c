import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/hub-config.js';
import type { CloseReason, DeviceConnection } from './device-connection.js';
import { SessionTable } from './session-table.js';

function fakeConnection(deviceId: string) {
  const closes: CloseReason[] = [];
  const connection: DeviceConnection = {
    deviceId,
    transport: 'ws',
    connectedAt: 0,
    details: { mqttProtocolLevel: 4, clientId: 'client-1', keepAliveSeconds: 60, remoteAddress: '127.0.0.1' },
    pause: () => undefined,
    resume: () => undefined,
    close: (reason) => void closes.push(reason),
    drain: async () => undefined,
    ended: Promise.resolve(),
    acceptsCommands: true,
    commandCapacity: 1,
    sendCommand: () => true,
  };
  return Object.assign(connection, { closes });
}

const tableFor = (maxConnections: number) =>
  new SessionTable(loadConfig({ TELEHUB_MAX_CONNECTIONS: String(maxConnections) }));

describe('SessionTable', () => {
  it('keeps one current session per device: a new one takes over and is answered the one it replaces', () => {
    const table = tableFor(10);
    const first = fakeConnection('a');
    const second = fakeConnection('a');
    expect(table.add(first)).toBeUndefined();
    expect(table.add(fakeConnection('b'))).toBeUndefined();
    expect(table.add(second)).toBe(first);
    expect(table.get('a')).toBe(second);
    expect(table.size).toBe(2);
    expect(table.deviceIds()).toEqual(['a', 'b']);
    // The table only answers; closing the replaced session is its caller's part.
    expect(first.closes).toEqual([]);
  });

  it('removes a session only while it is current, so one taken over cannot remove its successor', () => {
    const table = tableFor(10);
    const first = fakeConnection('a');
    const second = fakeConnection('a');
    table.add(first);
    table.add(second);
    expect(table.remove(first)).toBe(false);
    expect(table.get('a')).toBe(second);
    expect(table.remove(second)).toBe(true);
    expect(table.get('a')).toBeUndefined();
    expect(table.remove(second)).toBe(false);
  });

  it('lists the sessions as they were when asked', () => {
    const table = tableFor(10);
    const a = fakeConnection('a');
    table.add(a);
    const listed = table.connections();
    table.remove(a);
    expect(listed).toEqual([a]);
    expect(table.connections()).toEqual([]);
  });

  it('closes a revoked device’s session with the reason, and ignores a device without one', () => {
    const table = tableFor(10);
    const a = fakeConnection('a');
    table.add(a);
    table.revoke('a', 'token_revoked');
    table.revoke('nobody', 'not_authorized');
    expect(a.closes).toEqual(['token_revoked']);
  });

  it('counts sessions and handshakes in progress against TELEHUB_MAX_CONNECTIONS', () => {
    const table = tableFor(3);
    table.add(fakeConnection('a'));
    const first = table.reserveHandshake();
    const second = table.reserveHandshake();
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(table.reserveHandshake()).toBeUndefined();
    first!();
    // Releasing twice gives back one place, not two.
    first!();
    const third = table.reserveHandshake();
    expect(third).toBeTypeOf('function');
    expect(table.reserveHandshake()).toBeUndefined();
  });
});
