import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { DeviceAuthService } from '../src/device-auth/device-auth.service.js';
import { startDatabaseOutage } from './support/database-outage.js';
import { eventually, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/** What the issue measured: each of these kept about 175 B of heap, forever (+10 MB). */
const UNKNOWN_TOKENS = 60_000;
const DEFAULT_NEGATIVE_CACHE_SIZE = 10_000;

describe('unknown device tokens are cached within bounds (TELEHUB_AUTH_NEGATIVE_CACHE_SIZE, _TTL_MS)', () => {
  let hub: TestHub;
  let auth: DeviceAuthService;
  beforeAll(async () => {
    hub = await startTestHub();
    auth = hub.hub.app.get(DeviceAuthService);
  });
  afterAll(() => hub?.close());

  it(`keeps at most ${DEFAULT_NEGATIVE_CACHE_SIZE} of ${UNKNOWN_TOKENS} distinct unknown tokens, and a valid token still works`, async () => {
    let largest = 0;
    for (let done = 0; done < UNKNOWN_TOKENS; done += 2_000) {
      const tokens = Array.from({ length: 2_000 }, () => generateToken('device').token);
      const results = await Promise.all(tokens.map((token) => auth.authenticate(token, { transport: 'test' })));
      expect(results.every((result) => !result.ok && result.reason === 'unknown_token')).toBe(true);
      largest = Math.max(largest, auth.cachedUnknownTokens);
    }
    expect(largest).toBe(DEFAULT_NEGATIVE_CACHE_SIZE);
    expect(auth.cachedUnknownTokens).toBeLessThanOrEqual(DEFAULT_NEGATIVE_CACHE_SIZE);

    const device = await provisionDevice(hub, 'after-the-flood');
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
    });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });
});

describe('an unknown token is answered from the cache for TELEHUB_AUTH_NEGATIVE_CACHE_TTL_MS, then forgotten', () => {
  const TTL_MS = 1_000;
  let hub: TestHub;
  let auth: DeviceAuthService;
  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_AUTH_NEGATIVE_CACHE_SIZE: '100',
      TELEHUB_AUTH_NEGATIVE_CACHE_TTL_MS: String(TTL_MS),
    });
    auth = hub.hub.app.get(DeviceAuthService);
  });
  afterAll(() => hub?.close());

  it('needs no database for a cached unknown token, needs it again after the TTL, and drops expired entries', async () => {
    const cached = generateToken('device').token;
    expect(await auth.authenticate(cached, { transport: 'test' })).toMatchObject({ reason: 'unknown_token' });
    expect(auth.cachedUnknownTokens).toBe(1);

    const outage = await startDatabaseOutage(hub.database);
    try {
      // From the cache: answered although the database is down.
      expect(await auth.authenticate(cached, { transport: 'test' })).toMatchObject({ reason: 'unknown_token' });
      // Not in the cache: the lookup fails.
      await expect(auth.authenticate(generateToken('device').token, { transport: 'test' })).rejects.toThrow();
      await sleep(TTL_MS + 100);
      await expect(auth.authenticate(cached, { transport: 'test' })).rejects.toThrow();
    } finally {
      await outage.end();
    }
    expect(auth.cachedUnknownTokens).toBe(0);
    // The pool reconnects once the database is back.
    const answers = () => auth.authenticate(generateToken('device').token, { transport: 'test' }).then(() => true);
    expect(await eventually(() => answers().catch(() => false), 10_000)).toBe(true);

    for (let n = 0; n < 150; n += 1) await auth.authenticate(generateToken('device').token, { transport: 'test' });
    expect(auth.cachedUnknownTokens).toBe(100);
  });
});
