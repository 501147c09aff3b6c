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

  /**
   * Newest first. `beforeId` (an event of this device, the last of the previous page) continues after it: keyset
   * on (time, id), compared in the database so timestamps keep their microseconds. `time <= …` lets the
   * (device_id, time) index bound the scan; the row comparison breaks ties between events of one time.
   */
  async recentForDevice(deviceId: string, limit = 50, beforeId?: number): Promise<DeviceEvent[]> {
    const rows = await this.client.sql<{ id: number; time: number; type: string; detail: Record<string, unknown> }[]>`
      WITH start AS (SELECT time, id FROM device_events WHERE id = ${beforeId ?? null}::bigint)
      SELECT id, (extract(epoch FROM time) * 1000)::float8 AS time, type, detail FROM device_events
      WHERE device_id = ${deviceId}
        AND (${beforeId ?? null}::bigint IS NULL
          OR (time <= (SELECT time FROM start) AND (time, id) < (SELECT time, id FROM start)))
      ORDER BY time DESC, id DESC LIMIT ${limit}`;
    return rows.map((row) => ({ id: Number(row.id), deviceId, time: row.time, type: row.type, detail: row.detail }));
  }

  /** Whether this event exists and belongs to this device (a paging cursor must name one). */
  async belongsTo(eventId: number, deviceId: string): Promise<boolean> {
    const [row] = await this.client.sql<{ found: boolean }[]>`
      SELECT true AS found FROM device_events WHERE id = ${eventId} AND device_id = ${deviceId}`;
    return row !== undefined;
  }
}
