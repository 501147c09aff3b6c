import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubPair } from './support/cluster.js';
import { countRows, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import type { TestHub } from './support/test-hub.js';

const RATE_PER_SEC = 1;
const BURST = 5;

// A load balancer may send each request of an HTTP device to another hub: the device's budget is the whole hub's.
describe('the per-device HTTP rate across two hubs', () => {
  let a: TestHub;
  let b: TestHub;
  let pair: Awaited<ReturnType<typeof startHubPair>> | undefined;

  beforeAll(async () => {
    pair = await startHubPair({
      TELEHUB_DEVICE_RATE_PER_SEC: String(RATE_PER_SEC),
      TELEHUB_DEVICE_RATE_BURST: String(BURST),
    });
    ({ a, b } = pair);
  });
  afterAll(() => pair?.close());

  function post(hub: TestHub, device: ProvisionedDevice, n: number) {
    return hub.api('POST', '/api/v1/device/telemetry', {
      rawBody: JSON.stringify({ n }),
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
      auth: false,
    });
  }

  it('refuses on B a device that used up its burst on A: 429 with Retry-After', async () => {
    const device = await provisionDevice(a);
    const started = performance.now();
    const onA = await Promise.all(Array.from({ length: BURST }, (_, n) => post(a, device, n)));
    expect(onA.map((response) => response.status)).toEqual(onA.map(() => 200));
    const onB = await post(b, device, BURST);
    // Unless all this took so long that the rate refilled a token meanwhile.
    if (performance.now() - started < 1000 / RATE_PER_SEC) {
      expect(onB.status).toBe(429);
      expect(onB.body).toMatchObject({ code: 'rate_limited' });
      expect(Number(onB.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('holds one device posting to both hubs alternately to the limit in total, not once per hub', async () => {
    const device = await provisionDevice(a);
    const started = performance.now();
    const answers = [];
    for (let n = 0; n < 60; n++) answers.push({ hub: n % 2, status: (await post(n % 2 ? b : a, device, n)).status });
    const seconds = (performance.now() - started) / 1000;
    const accepted = answers.filter((answer) => answer.status === 200).length;
    // The burst and what the rate refilled meanwhile (one more for the refill racing the clock); each hub alone
    // would have let through twice that.
    expect(accepted).toBeGreaterThanOrEqual(BURST);
    expect(accepted).toBeLessThanOrEqual(BURST + Math.ceil(seconds * RATE_PER_SEC) + 1);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 429)).toEqual([]);
    // Both hubs refused some: each saw only half the requests, well within its own budget.
    expect(new Set(answers.filter((answer) => answer.status === 429).map((answer) => answer.hub))).toEqual(
      new Set([0, 1]),
    );
    expect(await countRows(a, device.id)).toBe(accepted);
  });
});
