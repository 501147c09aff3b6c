import { setTimeout as sleep } from 'node:timers/promises';
import type { TestHub } from './test-hub.js';

export interface ProvisionedDevice {
  id: string;
  token: string;
}

export async function provisionDevice(hub: TestHub, name = 'device'): Promise<ProvisionedDevice> {
  const response = await hub.api('POST', '/api/v1/devices', { body: { name } });
  if (response.status !== 201) throw new Error(`provisioning failed: ${response.status} ${response.text}`);
  return { id: response.body.id, token: response.body.token };
}

export async function countRows(hub: TestHub, deviceId: string, metric?: string): Promise<number> {
  const sql = hub.database.client.sql;
  const [row] = metric
    ? await sql<
        { count: number }[]
      >`SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${deviceId} AND metric = ${metric}`
    : await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${deviceId}`;
  return row?.count ?? 0;
}

/** Polls until `check` returns a truthy value or a non-empty array (events and presence are written asynchronously). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    const ready = Array.isArray(value) ? value.length > 0 : Boolean(value);
    if (ready || Date.now() > deadline) return value;
    await sleep(50);
  }
}

export async function deviceEvents(
  hub: TestHub,
  deviceId: string,
): Promise<{ type: string; detail: Record<string, unknown> }[]> {
  return hub.database.client.sql<{ type: string; detail: Record<string, unknown> }[]>`
    SELECT type, detail FROM device_events WHERE device_id = ${deviceId} ORDER BY id`;
}
