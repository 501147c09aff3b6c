import type { DatabaseClient } from '../client.js';

export interface FleetCounts {
  devices: number;
  /** Devices with a live session, as recorded by the hubs holding them (several hubs may share the database). */
  online: number;
  /** Devices without a live session heard from within their inactivity timeout (shown online too). */
  active: number;
}

/** Fleet-wide figures for the overview; cheap enough to read every second. */
export class FleetRepository {
  constructor(private readonly client: DatabaseClient) {}

  async counts(): Promise<FleetCounts> {
    const [row] = await this.client.sql<FleetCounts[]>`
      SELECT count(*)::int AS devices, count(*) FILTER (WHERE online)::int AS online,
        count(*) FILTER (WHERE active AND NOT online)::int AS active
      FROM devices`;
    return { devices: row?.devices ?? 0, online: row?.online ?? 0, active: row?.active ?? 0 };
  }
}
