import type { Sql } from 'postgres';
import type { DatabaseClient } from '../client.js';
import type { CommandStatus, CommandTransition } from '../schema/commands.table.js';
import { uuidV7 } from '../uuid-v7.js';

/** The channel every command status change is announced on (payload: CommandNotice as JSON). */
export const COMMANDS_CHANNEL = 'telehub_commands';

export const FINAL_COMMAND_STATUSES: readonly CommandStatus[] = ['succeeded', 'failed', 'expired', 'cancelled'];
/** Not final: the command may still reach the device or be answered. */
export const OPEN_COMMAND_STATUSES: readonly CommandStatus[] = ['queued', 'sent', 'delivered'];

export interface CommandRecord {
  id: string;
  deviceId: string;
  name: string;
  params: unknown;
  status: CommandStatus;
  idempotencyKey: string | null;
  /** Epoch milliseconds, like every time below. */
  createdAt: number;
  expiresAt: number;
  sentAt: number | null;
  deliveredAt: number | null;
  finishedAt: number | null;
  sendCount: number;
  result: unknown;
  error: string | null;
  transitions: CommandTransition[];
}

/** What NOTIFY carries for each status change: small (NOTIFY payloads stop at 8,000 bytes), no result. */
export interface CommandNotice {
  id: string;
  deviceId: string;
  name: string;
  status: CommandStatus;
  at: number;
  error?: string;
}

export interface NewCommand {
  deviceId: string;
  name: string;
  params: unknown;
  /** Time-to-live; expires_at is counted from the database's clock, like created_at and the expiry sweeper. */
  ttlSeconds: number;
  idempotencyKey?: string;
  /** Refuse when the device already has this many commands not yet final. */
  maxOpenPerDevice: number;
}

export type CreateCommandResult =
  | { kind: 'created'; command: CommandRecord }
  | { kind: 'existing'; command: CommandRecord }
  /** The idempotency key names a command created from a different request; these fields differ. */
  | { kind: 'key_reused'; command: CommandRecord; differing: IdempotentField[] }
  | { kind: 'device_not_found' }
  | { kind: 'queue_full'; open: number };

/** What a repeated idempotency key must repeat: the request's name, params and time-to-live. */
export type IdempotentField = 'name' | 'params' | 'ttlSeconds';

interface Differences {
  nameDiffers: boolean;
  paramsDiffers: boolean;
  ttlSecondsDiffers: boolean;
}

export interface TransitionChange {
  to: CommandStatus;
  /** Only rows in one of these statuses move; a row in any other status is left alone (and not returned). */
  from: readonly CommandStatus[];
  /** When given, only this device's commands move: a device can only answer its own commands. */
  deviceId?: string;
  result?: unknown;
  error?: string;
}

export interface CommandListFilter {
  deviceId: string;
  statuses: CommandStatus[];
  /** Keyset: commands created before this one (the list is newest first). */
  beforeId?: string;
  limit: number;
}

const ERROR_IN_NOTICE_MAX = 500;

/**
 * The command outbox. Every status change is one statement that updates the row, appends to its
 * transition list, writes a device event and NOTIFYs the change, so all four commit or none does.
 */
export class CommandRepository {
  constructor(private readonly client: DatabaseClient) {}

  async create(input: NewCommand): Promise<CreateCommandResult> {
    return this.client.sql.begin(async (tx) => {
      // Serializes creations per device, so the queue limit and the idempotency key hold under concurrency,
      // without locking the device row that presence updates also write.
      const [device] = await tx<{ id: string }[]>`
        SELECT id, pg_advisory_xact_lock(hashtextextended('telehub_commands:' || id::text, 0))
        FROM devices WHERE id = ${input.deviceId}`;
      if (!device) return { kind: 'device_not_found' } as const;
      if (input.idempotencyKey !== undefined) {
        // jsonb `=` compares JSON values, not text: key order and spacing do not matter. The time-to-live is
        // rounded because commands stored before it was counted on the database clock mixed two clocks.
        const [existing] = await tx<(CommandRecord & Differences)[]>`
          SELECT ${columns(tx)}, name <> ${input.name} AS "nameDiffers",
            params <> ${JSON.stringify(input.params ?? {})}::jsonb AS "paramsDiffers",
            round(extract(epoch FROM expires_at - created_at)) <> ${input.ttlSeconds}::int AS "ttlSecondsDiffers"
          FROM commands WHERE device_id = ${input.deviceId} AND idempotency_key = ${input.idempotencyKey}`;
        if (existing) return compareExisting(existing);
      }
      const [counted] = await tx<{ open: number }[]>`
        SELECT count(*)::int AS open FROM commands
        WHERE device_id = ${input.deviceId} AND status IN ('queued', 'sent', 'delivered')`;
      const open = counted?.open ?? 0;
      if (open >= input.maxOpenPerDevice) return { kind: 'queue_full', open } as const;
      const [created] = await tx<CommandRecord[]>`
        WITH changed AS (
          INSERT INTO commands (id, device_id, name, params, idempotency_key, expires_at, transitions)
          VALUES (${uuidV7()}, ${input.deviceId}, ${input.name}, ${JSON.stringify(input.params ?? {})}::jsonb,
            ${input.idempotencyKey ?? null}, now() + make_interval(secs => ${input.ttlSeconds}::int),
            jsonb_build_array(jsonb_build_object('status', 'queued', 'at', ${now(tx)})))
          RETURNING *
        ), recorded AS (${recordEvents(tx)})
        SELECT ${columns(tx)}, ${notify(tx)} FROM changed`;
      return { kind: 'created', command: strip(created!) } as const;
    });
  }

  /** Moves commands to `change.to` if they are in one of `change.from`; returns the rows that moved. */
  async transition(ids: readonly string[], change: TransitionChange): Promise<CommandRecord[]> {
    if (ids.length === 0) return [];
    const sql = this.client.sql;
    const to = change.to;
    const rows = await sql<CommandRecord[]>`
      WITH changed AS (
        UPDATE commands SET
          status = ${to}::text,
          sent_at = CASE WHEN ${to}::text = 'sent' THEN now() ELSE sent_at END,
          send_count = send_count + CASE WHEN ${to}::text = 'sent' THEN 1 ELSE 0 END,
          delivered_at = CASE WHEN ${to}::text = 'delivered' THEN now() ELSE delivered_at END,
          finished_at = CASE WHEN ${to}::text = ANY(${FINAL_COMMAND_STATUSES as string[]}::text[])
            THEN now() ELSE finished_at END,
          result = coalesce(${change.result === undefined ? null : JSON.stringify(change.result)}::jsonb, result),
          error = coalesce(${change.error ?? null}::text, error),
          transitions = transitions || jsonb_build_array(jsonb_build_object('status', ${to}::text, 'at', ${now(sql)}))
        WHERE id = ANY(${ids as string[]}::uuid[]) AND status = ANY(${change.from as string[]}::text[])
          AND (${change.deviceId ?? null}::uuid IS NULL OR device_id = ${change.deviceId ?? null}::uuid)
        RETURNING *
      ), recorded AS (${recordEvents(sql)})
      SELECT ${columns(sql)}, ${notify(sql)} FROM changed ORDER BY id`;
    return rows.map(strip);
  }

  /** Marks commands whose time-to-live has passed, a bounded number at a time (several hubs may sweep at once). */
  async expireDue(limit: number): Promise<CommandRecord[]> {
    const sql = this.client.sql;
    const rows = await sql<CommandRecord[]>`
      WITH due AS (
        SELECT id FROM commands
        WHERE status IN ('queued', 'sent', 'delivered') AND expires_at <= now()
        ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), changed AS (
        UPDATE commands SET status = 'expired', finished_at = now(),
          transitions = transitions || jsonb_build_array(jsonb_build_object('status', 'expired', 'at', ${now(sql)}))
        FROM due WHERE commands.id = due.id
        RETURNING commands.*
      ), recorded AS (${recordEvents(sql)})
      SELECT ${columns(sql)}, ${notify(sql)} FROM changed ORDER BY id`;
    return rows.map(strip);
  }

  /**
   * Takes what a device must receive (queued, or sent but never acknowledged; unexpired; oldest first, except
   * `exclude`, already on this connection) and marks it sent, in one statement: one round trip per delivery.
   */
  async claimForDelivery(deviceId: string, exclude: readonly string[], limit: number): Promise<CommandRecord[]> {
    const sql = this.client.sql;
    const rows = await sql<CommandRecord[]>`
      WITH picked AS (
        SELECT id FROM commands
        WHERE device_id = ${deviceId} AND status IN ('queued', 'sent') AND expires_at > now()
          AND NOT (id = ANY(${exclude as string[]}::uuid[]))
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), changed AS (
        UPDATE commands SET status = 'sent', sent_at = now(), send_count = send_count + 1,
          transitions = transitions || jsonb_build_array(jsonb_build_object('status', 'sent', 'at', ${now(sql)}))
        FROM picked WHERE commands.id = picked.id
        RETURNING commands.*
      ), recorded AS (${recordEvents(sql)})
      SELECT ${columns(sql)}, ${notify(sql)} FROM changed ORDER BY id`;
    return rows.map(strip);
  }

  async findById(id: string): Promise<CommandRecord | undefined> {
    const sql = this.client.sql;
    const [row] = await sql<CommandRecord[]>`SELECT ${columns(sql)} FROM commands WHERE id = ${id}`;
    return row;
  }

  /** Newest first, keyset by id (UUIDv7, so creation order). One extra row tells whether more follow. */
  async list(filter: CommandListFilter): Promise<{ rows: CommandRecord[]; hasMore: boolean }> {
    const sql = this.client.sql;
    const rows = await sql<CommandRecord[]>`
      SELECT ${columns(sql)} FROM commands
      WHERE device_id = ${filter.deviceId}
        AND (${filter.statuses.length === 0} OR status = ANY(${filter.statuses}::text[]))
        AND (${filter.beforeId ?? null}::uuid IS NULL OR id < ${filter.beforeId ?? null}::uuid)
      ORDER BY id DESC LIMIT ${filter.limit + 1}`;
    return { rows: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
  }

  /**
   * Calls `onNotice` for every command status change made by any hub process on this database. `onListen`
   * runs each time the listening connection is (re)established: notices sent while it was down are lost,
   * so the caller re-reads what it needs from the table then.
   */
  async listen(onNotice: (notice: CommandNotice) => void, onListen: () => void): Promise<() => Promise<void>> {
    const { unlisten } = await this.client.sql.listen(
      COMMANDS_CHANNEL,
      (payload) => onNotice(JSON.parse(payload) as CommandNotice),
      onListen,
    );
    return unlisten;
  }
}

/** Both the client and a transaction make SQL fragments with `unsafe` (fixed text, never user input). */
type Fragments = Pick<Sql, 'unsafe'>;

const COLUMNS = `id, device_id AS "deviceId", name, params, status, idempotency_key AS "idempotencyKey",
  ${epochMs('created_at')} AS "createdAt", ${epochMs('expires_at')} AS "expiresAt",
  ${epochMs('sent_at')} AS "sentAt", ${epochMs('delivered_at')} AS "deliveredAt",
  ${epochMs('finished_at')} AS "finishedAt", send_count AS "sendCount", result, error, transitions`;

function now(sql: Fragments) {
  return sql.unsafe(epochMs('now()'));
}

function columns(sql: Fragments) {
  return sql.unsafe(COLUMNS);
}

// Times travel as epoch milliseconds: drizzle changes how the shared client parses timestamptz.
function epochMs(column: string): string {
  return `(extract(epoch FROM ${column}) * 1000)::float8`;
}

/** Reads from the `changed` CTE: one device event per status change, `command_<status>`. */
function recordEvents(sql: Fragments) {
  return sql.unsafe(`
    INSERT INTO device_events (device_id, time, type, detail)
    SELECT device_id, now(), 'command_' || status,
      jsonb_build_object('commandId', id, 'name', name) || jsonb_strip_nulls(jsonb_build_object('error', error))
    FROM changed`);
}

function notify(sql: Fragments) {
  return sql.unsafe(`pg_notify('${COMMANDS_CHANNEL}', json_strip_nulls(json_build_object(
    'id', id, 'deviceId', device_id, 'name', name, 'status', status, 'at', ${epochMs('now()')},
    'error', left(error, ${ERROR_IN_NOTICE_MAX})))::text) AS notified`);
}

/** Splits the idempotency lookup's row into the stored command and the fields in which the new request differs. */
function compareExisting(row: CommandRecord & Differences): CreateCommandResult {
  const { nameDiffers, paramsDiffers, ttlSecondsDiffers, ...command } = row;
  const differing: IdempotentField[] = [];
  if (nameDiffers) differing.push('name');
  if (paramsDiffers) differing.push('params');
  if (ttlSecondsDiffers) differing.push('ttlSeconds');
  return differing.length === 0 ? { kind: 'existing', command } : { kind: 'key_reused', command, differing };
}

/** Drops the pg_notify column the statements above select. */
function strip(row: CommandRecord & { notified?: unknown }): CommandRecord {
  const { notified: _notified, ...command } = row;
  return command;
}
