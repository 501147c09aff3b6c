import type { DeviceCredential, DeviceTokenRepository } from '@telehub/db';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../auth/auth-throttle.js';
import { generateToken, hashToken } from '../auth/token-codec.js';
import { loadConfig } from '../config/hub-config.js';
import type { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { DeviceAuthService } from './device-auth.service.js';

const DEVICE = '0196a1f2-7c3e-7a00-8000-00000000000d';

/** Token lookups the test answers one by one, with the credential as the database has it at that moment. */
class ControlledTokens {
  readonly lookups: ((rows: DeviceCredential[]) => void)[] = [];
  findCredentialsByHashes(): Promise<DeviceCredential[]> {
    return new Promise((resolve) => this.lookups.push(resolve));
  }
  async touchLastUsed(): Promise<void> {}
}

async function until(check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 2000; !check(); ) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('DeviceAuthService', () => {
  it('does not trust a lookup that was under way when the device was invalidated: it looks again', async () => {
    const config = loadConfig({});
    const metrics = new HubMetrics();
    const tokens = new ControlledTokens();
    const recorder = { record: () => undefined } as unknown as DeviceEventRecorder;
    const service = new DeviceAuthService(
      tokens as unknown as DeviceTokenRepository,
      recorder,
      metrics,
      new AuthThrottle(config, metrics),
      config,
      pino({ level: 'silent' }),
    );
    const { token } = generateToken('device');
    const credential = (revokedAt: Date | null): DeviceCredential => ({
      tokenId: '0196a1f2-7c3e-7a00-8000-0000000000aa',
      tokenHash: hashToken(token),
      deviceId: DEVICE,
      expiresAt: null,
      revokedAt,
      deviceDisabled: false,
    });
    const checking = service.authenticate(token, { transport: 'mqtt' });
    await until(() => tokens.lookups.length === 1);
    // The token is revoked (on this process or another) while the lookup runs; the lookup read it before.
    service.invalidateDevice(DEVICE);
    tokens.lookups[0]!([credential(null)]);
    await until(() => tokens.lookups.length === 2);
    tokens.lookups[1]!([credential(new Date(Date.now() - 1))]);
    expect(await checking).toEqual({ ok: false, reason: 'token_revoked', deviceId: DEVICE });
    await service.onModuleDestroy();
  });
});
