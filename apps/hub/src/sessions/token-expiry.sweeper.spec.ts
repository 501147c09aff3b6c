import type { DeviceTokenRepository } from '@telehub/db';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/hub-config.js';
import type { CloseReason, DeviceConnection } from './device-connection.js';
import { SessionTable } from './session-table.js';
import { TokenExpirySweeper } from './token-expiry.sweeper.js';

function fakeConnection(deviceId: string, closed: string[]): DeviceConnection {
  return {
    deviceId,
    transport: 'mqtt',
    connectedAt: 0,
    details: { mqttProtocolLevel: 5, clientId: deviceId, keepAliveSeconds: 60, remoteAddress: null },
    pause: () => undefined,
    resume: () => undefined,
    close: (reason: CloseReason) => void closed.push(`${deviceId} ${reason}`),
    drain: async () => undefined,
    ended: new Promise(() => undefined),
    acceptsCommands: false,
    commandCapacity: 0,
    sendCommand: () => false,
  };
}

type Validity = Awaited<ReturnType<DeviceTokenRepository['findValidity']>>;

function makeSweeper(validity: Validity = []) {
  const config = loadConfig({});
  const table = new SessionTable(config);
  const tokens = { findValidity: async () => validity } as unknown as DeviceTokenRepository;
  const sweeper = new TokenExpirySweeper(table, tokens, config, pino({ level: 'silent' }));
  return { table, sweeper };
}

describe('TokenExpirySweeper', () => {
  it('closes the sessions whose token expired, once, and leaves the others', () => {
    const { table, sweeper } = makeSweeper();
    const closed: string[] = [];
    table.add(fakeConnection('a', closed), { tokenId: 't-a', expiresAt: 1_000 });
    table.add(fakeConnection('b', closed), { tokenId: 't-b', expiresAt: 5_000 });
    table.add(fakeConnection('c', closed), { tokenId: 't-c', expiresAt: null });
    expect(sweeper.sweep(999)).toBe(0);
    expect(sweeper.sweep(1_000)).toBe(1);
    expect(closed).toEqual(['a token_expired']);
    // Still closing (the transport has not reported its end): not closed again.
    expect(sweeper.sweep(2_000)).toBe(0);
    expect(sweeper.sweep(10_000)).toBe(1);
    expect(closed).toEqual(['a token_expired', 'b token_expired']);
  });

  it('forgets a session that ended or was taken over', () => {
    const { table, sweeper } = makeSweeper();
    const closed: string[] = [];
    const ended = fakeConnection('a', closed);
    table.add(ended, { tokenId: 't-1', expiresAt: 1_000 });
    table.remove(ended);
    const old = fakeConnection('b', closed);
    table.add(old, { tokenId: 't-2', expiresAt: 1_000 });
    // Its replacement authenticated with a token that does not expire.
    table.add(fakeConnection('b', closed), { tokenId: 't-3', expiresAt: null });
    expect(sweeper.sweep(2_000)).toBe(0);
    expect(closed).toEqual([]);
  });

  it('learns a new expiry on refresh, and ends a session whose token was revoked or deleted meanwhile', async () => {
    const now = Date.now();
    const { table, sweeper } = makeSweeper([
      { tokenId: 't-a', expiresAt: new Date(now + 60_000), revokedAt: null },
      { tokenId: 't-b', expiresAt: null, revokedAt: new Date(now) },
    ]);
    const closed: string[] = [];
    const a = fakeConnection('a', closed);
    table.add(a, { tokenId: 't-a', expiresAt: null });
    table.add(fakeConnection('b', closed), { tokenId: 't-b', expiresAt: null });
    table.add(fakeConnection('c', closed), { tokenId: 't-c', expiresAt: null });
    await sweeper.refresh();
    expect(table.tokenOf(a)).toEqual({ tokenId: 't-a', expiresAt: now + 60_000 });
    expect(closed).toEqual(['b token_revoked', 'c not_authorized']);
    expect(sweeper.sweep(now + 60_000)).toBe(1);
  });
});
