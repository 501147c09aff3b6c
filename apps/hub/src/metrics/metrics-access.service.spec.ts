import { describe, expect, it } from 'vitest';
import type { AdminTokenCheck } from '../admin-auth/admin-identity.js';
import type { AdminTokenService } from '../admin-auth/admin-token.service.js';
import { AuthThrottle } from '../auth/auth-throttle.js';
import type { HubConfig } from '../config/hub-config.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { MetricsAccess } from './metrics-access.service.js';

const METRICS_TOKEN = 'a-metrics-token-of-at-least-32-characters';
const ADMIN_TOKEN = 'tha_the-one-admin-token';

function access(failureBurst: number) {
  const lookups: string[] = [];
  const adminTokens = {
    async verify(token: string): Promise<AdminTokenCheck> {
      lookups.push(token);
      if (token !== ADMIN_TOKEN) return { ok: false, refusal: 'unknown' };
      return { ok: true, identity: { tokenId: '1', name: 'ops', role: 'viewer', source: 'api', expiresAt: null } };
    },
  } as AdminTokenService;
  const config = {
    metrics: { auth: 'token', token: METRICS_TOKEN },
    auth: { failureBurst, failureRatePerSec: 0.001, throttleMaxAddresses: 100 },
  } as HubConfig;
  const metrics = new HubMetrics();
  return { access: new MetricsAccess(config, adminTokens, new AuthThrottle(config, metrics)), lookups, metrics };
}

describe('MetricsAccess', () => {
  it('takes the metrics token and an admin token, and refuses anything else with 401', async () => {
    const { access: check } = access(0);
    expect(await check.refusal(`Bearer ${METRICS_TOKEN}`, '192.0.2.1')).toBeUndefined();
    expect(await check.refusal(`Bearer ${ADMIN_TOKEN}`, '192.0.2.1')).toBeUndefined();
    expect(await check.refusal('Bearer wrong', '192.0.2.1')).toMatchObject({ status: 401 });
    expect(await check.refusal(undefined, '192.0.2.1')).toMatchObject({ status: 401 });
  });

  it('counts wrong tokens against the address and then refuses it with 429 before checking any token', async () => {
    const { access: check, lookups, metrics } = access(2);
    expect(await check.refusal('Bearer wrong-1', '192.0.2.7')).toMatchObject({ status: 401 });
    expect(await check.refusal('Bearer wrong-2', '192.0.2.7')).toMatchObject({ status: 401 });
    expect(lookups).toEqual(['wrong-1', 'wrong-2']);
    for (const token of [ADMIN_TOKEN, METRICS_TOKEN]) {
      expect(await check.refusal(`Bearer ${token}`, '192.0.2.7')).toMatchObject({
        status: 429,
        code: 'auth_throttled',
        headers: { 'Retry-After': expect.any(String) },
      });
    }
    expect(lookups).toHaveLength(2);
    expect((await metrics.authThrottled.get()).values).toEqual([
      expect.objectContaining({ labels: { transport: 'metrics' }, value: 2 }),
    ]);
    // Another address, and a request without a token (no lookup, so no failure), are not affected.
    expect(await check.refusal(`Bearer ${ADMIN_TOKEN}`, '192.0.2.8')).toBeUndefined();
    expect(await check.refusal(undefined, '192.0.2.9')).toMatchObject({ status: 401 });
  });
});
