import type { PendingQuery, Row, Sql } from 'postgres';
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

/**
 * The `command_<status>` device event a status change wrote, as its NOTIFY carries it: the row's type, detail and
 * time, with the error cut to the notice's length.
 */
export interface CommandDeviceEvent {
  type: string;
  detail: Record<string, unknown>;
  at: number;
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
 * The command outbox. Every status change is one statement that updates the row, appends to its transition list,
 * writes a device event and NOTIFYs the change with that event, so all four commit or none does. The statements
 * differ only in which rows they pick (move(), and create() for the first status).
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
            ${transitionEntry(this.client.sql, 'queued')})
          RETURNING *
        ) ${recordAndAnnounce(tx)}`;
      return { kind: 'created', command: strip(created!) } as const;
    });
  }

  /** Moves commands to `change.to` if they are in one of `change.from`; returns the rows that moved. */
  async transition(ids: readonly string[], change: TransitionChange): Promise<CommandRecord[]> {
    if (ids.length === 0) return [];
    const sql = this.client.sql;
    const deviceId = change.deviceId ?? null;
    return this.move(
      sql`SELECT id FROM commands
        WHERE id = ANY(${ids as string[]}::uuid[]) AND status = ANY(${change.from as string[]}::text[])
          AND (${deviceId}::uuid IS NULL OR device_id = ${deviceId}::uuid)`,
      change,
    );
  }

  /** Marks commands whose time-to-live has passed, a bounded number at a time (several hubs may sweep at once). */
  async expireDue(limit: number): Promise<CommandRecord[]> {
    const from = OPEN_COMMAND_STATUSES as string[];
    return this.move(
      this.client.sql`SELECT id FROM commands
        WHERE status = ANY(${from}::text[]) AND expires_at <= now()
        ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      { to: 'expired', from: OPEN_COMMAND_STATUSES },
    );
  }

  /**
   * Takes what a device must receive (queued, or sent but never acknowledged; unexpired; oldest first, except
   * `exclude`, already on this connection) and marks it sent, in one statement: one round trip per delivery.
   * With `sessionId`, only while that session is the device's live session on record (devices.session_id): a
   * session another hub process has taken over claims nothing, so commands go to the owner only.
   */
  async claimForDelivery(
    deviceId: string,
    exclude: readonly string[],
    limit: number,
    sessionId?: string,
  ): Promise<CommandRecord[]> {
    const from: CommandStatus[] = ['queued', 'sent'];
    const owner = sessionId ?? null;
    return this.move(
      this.client.sql`SELECT id FROM commands
        WHERE device_id = ${deviceId} AND status = ANY(${from}::text[]) AND expires_at > now()
          AND NOT (id = ANY(${exclude as string[]}::uuid[]))
          AND (${owner}::uuid IS NULL OR EXISTS (
            SELECT 1 FROM devices WHERE devices.id = ${deviceId} AND devices.online AND devices.session_id = ${owner}::uuid))
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      { to: 'sent', from },
    );
  }

  /**
   * A hub process was lost (its lease lapsed): what it had sent to these devices before `sentBefore` (epoch ms)
   * and never saw acknowledged goes back to the queue, to be delivered wherever the device reconnects. Commands
   * sent later were sent by the device's new session, and stay as they are.
   */
  async requeueUnacknowledged(deviceIds: readonly string[], sentBefore: number): Promise<CommandRecord[]> {
    if (deviceIds.length === 0) return [];
    return this.move(
      this.client.sql`SELECT id FROM commands
        WHERE device_id = ANY(${deviceIds as string[]}::uuid[]) AND status = 'sent'
          AND sent_at <= to_timestamp(${sentBefore} / 1000.0)
        ORDER BY id FOR UPDATE SKIP LOCKED`,
      { to: 'queued', from: ['sent'] },
    );
  }

  /**
   * The one transition statement: moves the rows `picked` selects to `change.to`, stamping the time of the step
   * it records (sent, delivered, finished), and records and announces each move. The status is checked again in
   * the UPDATE, after its row lock: a row another statement moved meanwhile out of `change.from` stays put.
   */
  private async move(picked: PendingQuery<Row[]>, change: TransitionChange): Promise<CommandRecord[]> {
    const sql = this.client.sql;
    const to = change.to;
    const rows = await sql<CommandRecord[]>`
      WITH picked AS (${picked}), changed AS (
        UPDATE commands SET
          status = ${to}::text,
          sent_at = CASE WHEN ${to}::text = 'sent' THEN now() ELSE sent_at END,
          send_count = send_count + CASE WHEN ${to}::text = 'sent' THEN 1 ELSE 0 END,
          delivered_at = CASE WHEN ${to}::text = 'delivered' THEN now() ELSE delivered_at END,
          finished_at = CASE WHEN ${to}::text = ANY(${FINAL_COMMAND_STATUSES as string[]}::text[])
            THEN now() ELSE finished_at END,
          result = coalesce(${change.result === undefined ? null : JSON.stringify(change.result)}::jsonb, result),
          error = coalesce(${change.error ?? null}::text, error),
          transitions = transitions || ${transitionEntry(sql, to)}
        FROM picked WHERE commands.id = picked.id AND commands.status = ANY(${change.from as string[]}::text[])
        RETURNING commands.*
      ) ${recordAndAnnounce(sql)}`;
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
   * Calls `onNotice` for every command status change made by any hub process on this database, with the device
   * event the change wrote. `onListen`
   * runs each time the listening connection is (re)established: notices sent while it was down are lost,
   * so the caller re-reads what it needs from the table then.
   */
  async listen(
    onNotice: (notice: CommandNotice, event: CommandDeviceEvent) => void,
    onListen: () => void,
  ): Promise<() => Promise<void>> {
    const { unlisten } = await this.client.sql.listen(
      COMMANDS_CHANNEL,
      (payload) => {
        const { event, ...notice } = JSON.parse(payload) as CommandNotice & { event: CommandDeviceEvent };
        onNotice(notice, event);
      },
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

function columns(sql: Fragments) {
  return sql.unsafe(COLUMNS);
}

// Times travel as epoch milliseconds: drizzle changes how the shared client parses timestamptz.
function epochMs(column: string): string {
  return `(extract(epoch FROM ${column}) * 1000)::float8`;
}

/**
 * The entry a step appends to a command's `transitions`: its status and the time, on the database's clock. A
 * fragment made by the client fits in a transaction's statement too.
 */
function transitionEntry(sql: Sql, status: CommandStatus) {
  return sql`jsonb_build_array(jsonb_build_object('status', ${status}::text, 'at', ${sql.unsafe(epochMs('now()'))}))`;
}

/**
 * Follows a `changed` CTE of commands that just moved: writes each one's `command_<status>` device event, NOTIFYs
 * the move with the event as written, and selects the commands. The device event is defined here only: what the
 * hubs show live is this row (its error cut like the notice's, NOTIFY payloads stop at 8,000 bytes).
 */
const RECORD_AND_ANNOUNCE = `, recorded AS (
    INSERT INTO device_events (device_id, time, type, detail)
    SELECT device_id, now(), 'command_' || status,
      jsonb_build_object('commandId', id, 'name', name) || jsonb_strip_nulls(jsonb_build_object('error', error))
    FROM changed
    RETURNING (detail->>'commandId')::uuid AS event_command_id, type AS event_type, detail AS event_detail,
      time AS event_time
  )
  SELECT ${COLUMNS}, pg_notify('${COMMANDS_CHANNEL}', json_strip_nulls(json_build_object(
    'id', id, 'deviceId', device_id, 'name', name, 'status', status, 'at', ${epochMs('now()')},
    'error', left(error, ${ERROR_IN_NOTICE_MAX}),
    'event', json_build_object('type', event_type, 'at', ${epochMs('event_time')}, 'detail',
      event_detail || jsonb_strip_nulls(jsonb_build_object('error', left(event_detail->>'error', ${ERROR_IN_NOTICE_MAX}))))
  ))::text) AS notified
  FROM changed JOIN recorded ON recorded.event_command_id = changed.id
  ORDER BY changed.id`;

function recordAndAnnounce(sql: Fragments) {
  return sql.unsafe(RECORD_AND_ANNOUNCE);
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
