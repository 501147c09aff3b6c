import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetSummaryService } from '../src/fleet/fleet-summary.service.js';
import { FAST_LEASES } from './support/cluster.js';
import { eventually, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/**
 * The fleet summary's rates count what every hub process on the database committed: a device publishing through
 * hub A moves the figures an admin reads from hub B, and B's own are added to them, not counted twice.
 */
describe('fleet rates across hub processes', () => {
  let a: TestHub;
  let b: TestHub;

  beforeAll(async () => {
    a = await startTestHub(FAST_LEASES);
    b = await startTestHub(FAST_LEASES, { database: a.database, adminToken: a.adminToken });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('an admin on B sees the messages and rows a device sends through A, and both hubs agree', async () => {
    const device = await provisionDevice(a, 'rates');
    const client = await mqtt.connectAsync(a.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
    });
    // 60 messages of 2 rows each, all committed by A.
    for (let i = 0; i < 60; i++) {
      await client.publishAsync('devices/me/telemetry', JSON.stringify({ temp: i, hum: 40 }), { qos: 1 });
    }
    await client.endAsync();
    const localOf = (hub: TestHub) => hub.hub.app.get(FleetSummaryService).localRates();
    const summaryOf = async (hub: TestHub) => (await hub.api('GET', '/api/v1/fleet/summary')).body;
    const onB = await eventually(async () => {
      const summary = await summaryOf(b);
      return summary.messagesPerSecond > 0 ? summary : undefined;
    }, 5_000);
    // B committed nothing itself: what it shows is A's, two rows per message.
    expect(localOf(b)).toEqual({ messagesPerSecond: 0, rowsPerSecond: 0 });
    expect(onB.rowsPerSecond).toBeCloseTo(2 * onB.messagesPerSecond, 6);
    expect(localOf(a).messagesPerSecond).toBeGreaterThan(0);
    // A counts its own once (B adds nothing).
    const onA = await summaryOf(a);
    expect(onA.messagesPerSecond).toBeCloseTo(localOf(a).messagesPerSecond, 1);
  });
});
