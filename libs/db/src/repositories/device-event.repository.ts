import type { DatabaseClient } from '../client.js';

export interface NewDeviceEvent {
  deviceId: string | null;
  time: number;
  type: string;
  detail: Record<string, unknown>;
}

export interface DeviceEvent extends NewDeviceEvent {
  id: number;
}

export class DeviceEventRepository {
  constructor(private readonly client: DatabaseClient) {}

  /** Many events in one statement: the hub buffers them and writes every few hundred milliseconds. */
  async insertMany(events: NewDeviceEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.client.sql`
      INSERT INTO device_events (device_id, time, type, detail)
      SELECT d, to_timestamp(t / 1000.0), ty, de::jsonb FROM unnest(
        ${events.map((event) => event.deviceId)}::uuid[],
        ${events.map((event) => event.time)}::float8[],
        ${events.map((event) => event.type)}::text[],
        ${events.map((event) => JSON.stringify(event.detail))}::text[]
      ) AS events (d, t, ty, de)`;
  }

  async recentForDevice(deviceId: string, limit = 50): Promise<DeviceEvent[]> {
    const rows = await this.client.sql<{ id: number; time: number; type: string; detail: Record<string, unknown> }[]>`
      SELECT id, (extract(epoch FROM time) * 1000)::float8 AS time, type, detail FROM device_events
      WHERE device_id = ${deviceId} ORDER BY time DESC, id DESC LIMIT ${limit}`;
    return rows.map((row) => ({ id: Number(row.id), deviceId, time: row.time, type: row.type, detail: row.detail }));
  }
}
