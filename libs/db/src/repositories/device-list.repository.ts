import { and, arrayContains, asc, desc, eq, getTableColumns, ilike, like, not, or, type SQL, sql } from 'drizzle-orm';
import type { Database, DatabaseClient } from '../client.js';
import { type DeviceRow, deviceLastSeen, devices } from '../schema/index.js';

export type DeviceListStatus = 'connected' | 'active' | 'offline';
export type DeviceListSortKey = 'created' | 'name' | 'lastSeen';

/**
 * Where the previous page ended, in the page's sort order. `created` pages by id alone (UUIDv7 ids sort by
 * creation); `name` by (name, id); `lastSeen` by (last_seen_at, id), with never-seen devices before any time.
 */
export type DeviceListPosition =
  | { sort: 'created'; id: string }
  | { sort: 'name'; name: string; id: string }
  /** `lastSeenUs`: microseconds since the epoch, exactly as stored, or null for a device never seen. */
  | { sort: 'lastSeen'; lastSeenUs: string | null; id: string };

export interface DeviceListFilter {
  labels: string[];
  namePrefix?: string;
  /** Case-insensitive substring of the name or of the id (its text form). */
  search?: string;
  /** Any of these; empty: every status. */
  statuses: DeviceListStatus[];
}

export interface DeviceListQuery extends DeviceListFilter {
  sort: DeviceListSortKey;
  descending: boolean;
  limit: number;
  after?: DeviceListPosition;
}

export interface DeviceListPage {
  rows: DeviceRow[];
  hasMore: boolean;
  /** Where the last row is: pass as `after` for the next page. */
  last: DeviceListPosition | undefined;
}

export interface DeviceStatusCounts {
  connected: number;
  active: number;
  offline: number;
}

export interface LatestOfDevice {
  deviceId: string;
  metric: string;
  /** Epoch ms. */
  time: number;
  value: number;
}

/** Hex digits and dashes: what a piece of a UUID's text form (`0196a3c1-7f00-…`) can hold. */
const UUID_PIECE = /^[0-9a-f-]+$/i;

/**
 * Never-seen devices sort as the earliest time, so the order and the keyset comparison agree. The expression of
 * device_last_seen_key_idx exactly, so pages sorted by last seen walk that index.
 */
const lastSeenKey = sql`coalesce(${deviceLastSeen.lastSeenAt}, '-infinity'::timestamptz)`;
const lastSeenUs = sql<string | null>`(extract(epoch FROM ${deviceLastSeen.lastSeenAt}) * 1000000)::bigint::text`;

/**
 * The device list of a fleet: filters (labels, name prefix, name or id substring, status), three sort orders
 * with keyset pagination, totals per status over everything that matches, and latest values for a page.
 *
 * Each order walks an index in its own order and stops after a page: `created` the primary key, `name`
 * devices_name_id_idx, `lastSeen` device_last_seen_key_idx (last-seen times live in that narrow table so that
 * indexing them costs the frequent last-seen writes two small btrees, not a non-HOT update of the wide device
 * row). Filters are checked on the rows walked, so a page costs about page size ÷ the share of devices that
 * match (labels and substrings use their GIN indexes instead when they match few).
 * Status is `online` (a live session) first, then `active` (heard from within the inactivity timeout), as the
 * activity sweeper keeps it. Neither column is indexed: presence rewrites device rows, and an index on a column
 * it changes would make such an update touch every index. Counting per status therefore reads every matching
 * row (bench `device-list` says what that costs at 100,000 devices).
 * Substring search uses the pg_trgm indexes of migration 0007 where the server has the extension; without
 * them the same query scans the table.
 */
export class DeviceListRepository {
  private readonly db: Database;

  constructor(private readonly client: DatabaseClient) {
    this.db = client.db;
  }

  async list(query: DeviceListQuery): Promise<DeviceListPage> {
    const conditions = [...filterConditions(query), ...statusConditions(query.statuses)];
    if (query.after) conditions.push(afterCondition(query.after, query.descending));
    // The page's ids first, sorting only (key, id) in index order, and the rows read for the page alone (a LIMIT
    // subquery is never flattened). Only the last-seen order needs device_last_seen to choose the page.
    const ids =
      query.sort === 'lastSeen'
        ? this.db
            .select({ id: devices.id })
            .from(deviceLastSeen)
            .innerJoin(devices, eq(devices.id, deviceLastSeen.deviceId))
        : this.db.select({ id: devices.id }).from(devices);
    const page = ids
      .where(and(...conditions))
      .orderBy(...orderOf(query))
      .limit(query.limit + 1)
      .as('page');
    const found = await this.db
      .select({ row: { ...getTableColumns(devices), lastSeenAt: deviceLastSeen.lastSeenAt }, lastSeenUs })
      .from(page)
      .innerJoin(devices, eq(devices.id, page.id))
      .leftJoin(deviceLastSeen, eq(deviceLastSeen.deviceId, page.id))
      .orderBy(...orderOf(query));
    const rows = found.slice(0, query.limit);
    const last = rows.at(-1);
    return {
      rows: rows.map((item) => item.row),
      hasMore: found.length > query.limit,
      last: last && positionOf(query.sort, last.row, last.lastSeenUs),
    };
  }

  /** Devices matching `filter` (its statuses aside) per status, in one pass. */
  async countByStatus(filter: DeviceListFilter): Promise<DeviceStatusCounts> {
    const [row] = await this.db
      .select({
        all: sql<number>`count(*)::int`,
        connected: sql<number>`count(*) FILTER (WHERE ${devices.online})::int`,
        active: sql<number>`count(*) FILTER (WHERE ${devices.active} AND NOT ${devices.online})::int`,
      })
      .from(devices)
      .where(and(...filterConditions(filter)));
    const all = row?.all ?? 0;
    const connected = row?.connected ?? 0;
    const active = row?.active ?? 0;
    return { connected, active, offline: all - connected - active };
  }

  /** The newest value of every metric of these devices, by (device, metric) primary key lookups. */
  async latestOf(deviceIds: string[]): Promise<LatestOfDevice[]> {
    if (deviceIds.length === 0) return [];
    // Times as epoch ms from SQL: drizzle sets the shared client to return timestamps as strings.
    return this.client.sql<LatestOfDevice[]>`
      SELECT device_id AS "deviceId", metric, (extract(epoch FROM time) * 1000)::float8 AS time, value
      FROM device_latest WHERE device_id = ANY(${deviceIds}::uuid[]) ORDER BY device_id, metric`;
  }

  /** Whether substring search is indexed (migration 0007 made the pg_trgm indexes). */
  async searchIndexed(): Promise<boolean> {
    const [row] = await this.client.sql<{ indexed: boolean }[]>`
      SELECT to_regclass('devices_name_trgm_idx') IS NOT NULL AND to_regclass('devices_id_trgm_idx') IS NOT NULL
        AS indexed`;
    return row?.indexed ?? false;
  }
}

function orderOf(query: Pick<DeviceListQuery, 'sort' | 'descending'>): SQL[] {
  const direction = query.descending ? desc : asc;
  switch (query.sort) {
    case 'name':
      return [direction(devices.name), direction(devices.id)];
    case 'lastSeen':
      // device_last_seen's own id column: the index's second column.
      return [direction(lastSeenKey), direction(deviceLastSeen.deviceId)];
    case 'created':
      return [direction(devices.id)];
  }
}

function filterConditions(filter: DeviceListFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.labels.length > 0) conditions.push(arrayContains(devices.labels, filter.labels));
  if (filter.namePrefix) conditions.push(like(devices.name, `${escapeLike(filter.namePrefix)}%`));
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search)}%`;
    // Only text that can be part of an id's text form is looked for in ids: for any other, converting and
    // comparing every id would cost a search over every row for nothing. `id::text` is the index expression.
    conditions.push(
      UUID_PIECE.test(filter.search)
        ? or(ilike(devices.name, pattern), sql`${devices.id}::text ILIKE ${pattern}`)!
        : ilike(devices.name, pattern),
    );
  }
  return conditions;
}

function statusConditions(statuses: DeviceListStatus[]): SQL[] {
  const wanted = new Set(statuses);
  if (wanted.size === 0 || wanted.size === 3) return [];
  const each: SQL[] = [];
  if (wanted.has('connected')) each.push(eq(devices.online, true));
  if (wanted.has('active')) each.push(and(not(devices.online), eq(devices.active, true))!);
  if (wanted.has('offline')) each.push(and(not(devices.online), not(devices.active))!);
  return [or(...each)!];
}

/** Rows strictly after `after` in the sort order (row comparisons, so ties on the key are broken by id). */
function afterCondition(after: DeviceListPosition, descending: boolean): SQL {
  const op = sql.raw(descending ? '<' : '>');
  switch (after.sort) {
    case 'created':
      return sql`${devices.id} ${op} ${after.id}::uuid`;
    case 'name':
      return sql`(${devices.name}, ${devices.id}) ${op} (${after.name}::text, ${after.id}::uuid)`;
    case 'lastSeen': {
      // Microseconds times an interval: exact, where a float8 of seconds could round the last digit.
      const at =
        after.lastSeenUs === null
          ? sql`'-infinity'::timestamptz`
          : sql`('epoch'::timestamptz + ${after.lastSeenUs}::bigint * interval '1 microsecond')`;
      return sql`(${lastSeenKey}, ${deviceLastSeen.deviceId}) ${op} (${at}, ${after.id}::uuid)`;
    }
  }
}

function positionOf(sort: DeviceListSortKey, row: DeviceRow, lastSeen: string | null): DeviceListPosition {
  switch (sort) {
    case 'created':
      return { sort, id: row.id };
    case 'name':
      return { sort, name: row.name, id: row.id };
    case 'lastSeen':
      return { sort, lastSeenUs: lastSeen, id: row.id };
  }
}

/** LIKE's wildcards and escape character, taken literally (backslash is LIKE's default escape). */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
