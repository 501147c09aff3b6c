import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase } from '@telehub/testing';
import { describe, expect, it } from 'vitest';
import { startHubProcess } from './support/hub-process.js';
import { WindowedMqttPublisher } from './support/windowed-mqtt-publisher.js';
import type { LoadTransport, WindowedPublisher } from './support/windowed-publisher.js';
import { WindowedWsPublisher } from './support/windowed-ws-publisher.js';

const DEVICES: Record<LoadTransport, number> = { mqtt: 24, 'mqtt-ws': 8, ws: 8 };
const WINDOW = 200;
/** What the hub says when it shuts down: MQTT 5 DISCONNECT 0x8B, WebSocket close 1001. */
const FAREWELL: Record<LoadTransport, number> = { mqtt: 0x8b, 'mqtt-ws': 0x8b, ws: 1001 };

describe('SIGTERM under heavy load', () => {
  it('acknowledges every committed message, says goodbye to every device, and closes without a reset', {
    timeout: 60_000,
  }, async () => {
    const database = await createTestDatabase();
    const proc = await startHubProcess(database.url, {
      // No rate limit: devices send as fast as the hub takes it.
      TELEHUB_DEVICE_RATE_PER_SEC: '1000000',
      TELEHUB_DEVICE_RATE_BURST: '1000000',
      // Generous, so a test process slowed by other tests still closes its side in time.
      TELEHUB_CLOSE_GRACE_MS: '5000',
    });
    try {
      const total = Object.values(DEVICES).reduce((sum, n) => sum + n, 0);
      const response = await fetch(`http://127.0.0.1:${proc.httpPort}/api/v1/devices/bulk`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${proc.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(Array.from({ length: total }, (_, n) => ({ name: `shutdown-${n}` }))),
      });
      const devices = (await response.json()) as Array<{ id: string; token: string }>;
      expect(devices).toHaveLength(total);
      const transports = (Object.entries(DEVICES) as Array<[LoadTransport, number]>).flatMap(([transport, n]) =>
        Array.from({ length: n }, () => transport),
      );
      // A window of 200 messages of ~600 bytes is more than the hub reads ahead of a paused socket: when it
      // stops reading at shutdown, every connection still has unread bytes in its receive buffer, and the
      // devices go on sending as acknowledgements free their windows.
      const publishers: WindowedPublisher[] = await Promise.all(
        devices.map((device, index) => {
          const transport = transports[index]!;
          const options = { deviceId: device.id, token: device.token, window: WINDOW, padding: 512 };
          if (transport === 'ws') return WindowedWsPublisher.connect({ ...options, port: proc.httpPort });
          const port = transport === 'mqtt' ? proc.mqttPort! : proc.httpPort;
          return WindowedMqttPublisher.connect(transport, { ...options, port });
        }),
      );
      for (const publisher of publishers) publisher.start();
      await sleep(1000);
      proc.child.kill('SIGTERM');
      const exitCode = await Promise.race([proc.exited, sleep(20_000).then(() => 'timeout')]);
      expect(exitCode, proc.logs.join('\n')).toBe(0);
      await Promise.race([Promise.all(publishers.map((publisher) => publisher.closed)), sleep(5_000)]);

      const rows = await database.client.sql<{ device_id: string; value: number }[]>`
        SELECT device_id, value FROM telemetry WHERE metric = 'v'`;
      const stored = new Map<string, number[]>(devices.map((device) => [device.id, []]));
      for (const row of rows) stored.get(row.device_id)!.push(row.value);

      const report = publishers.map((publisher, index) => {
        const values = stored.get(devices[index]!.id)!;
        const acked = new Set(publisher.acked);
        const committed = new Set(values);
        return {
          transport: publisher.transport,
          sent: publisher.sent,
          acked: acked.size,
          stored: values.length,
          storedNotAcked: values.filter((value) => !acked.has(value)).length,
          ackedNotStored: publisher.acked.filter((value) => !committed.has(value)).length,
          refused: publisher.refused.length,
          farewell: publisher.farewell,
          socketErrors: publisher.socketErrors.join(','),
        };
      });
      const acked = report.reduce((sum, entry) => sum + entry.acked, 0);
      expect(acked, 'the load ran').toBeGreaterThan(total * WINDOW);
      const wrong = report.filter(
        (entry) =>
          entry.storedNotAcked > 0 ||
          entry.ackedNotStored > 0 ||
          entry.stored !== entry.acked ||
          entry.refused > 0 ||
          entry.farewell !== FAREWELL[entry.transport] ||
          entry.socketErrors !== '',
      );
      expect(wrong, `${wrong.length} of ${total} devices`).toEqual([]);
    } finally {
      proc.child.kill('SIGKILL');
      await database.drop();
    }
  });
});
