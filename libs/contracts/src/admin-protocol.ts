/**
 * The admin WebSocket channel (`/v1/admin/ws`): what the dashboard (or any admin tool) and the hub say to
 * each other. One JSON object per text frame. docs/admin-protocol.md describes the same contract in prose.
 */
import { z } from 'zod';
import type { AdminRole } from './admin-roles.js';
import { type Command, type CommandStatus, CreateCommandRequestSchema } from './command.schemas.js';
import type { SessionDetails } from './device.schemas.js';

export const ADMIN_WS_PATH = '/v1/admin/ws';

/**
 * Every WebSocket close status of this channel in one table, as `ws` keeps its errors: a stable name for each
 * status code (RFC 6455 §7.4.1; 1013 "Try Again Later" is in the IANA registry; 4000–4999 are the application's,
 * §7.4.2). The reason text says which case it was. docs/admin-protocol.md, "Authentication", lists the same.
 */
export const ADMIN_CLOSE = {
  /** No valid auth message within TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS, or a message before auth. */
  authRequired: 4401,
  /**
   * The token is not valid: unknown, revoked or expired. Also closes an open connection when its token is
   * revoked (by the API, the CLI or a change of TELEHUB_ADMIN_TOKEN) or expires; the reason says which.
   */
  authFailed: 4403,
  /** Too many failed authentications from this address: reconnect later (with backoff). */
  authThrottled: 4429,
  serverShutdown: 1001,
  /** Never sent: what an endpoint reports when the connection dropped without a close frame (§7.1.5). */
  connectionDropped: 1006,
  /** A binary frame, or a text frame that is not JSON. */
  protocolError: 1008,
  /** A frame over TELEHUB_ADMIN_WS_MAX_MESSAGE_BYTES (`ws` closes with it by itself). */
  messageTooLarge: 1009,
  /**
   * Try again later: the client stopped reading (more than TELEHUB_ADMIN_WS_MAX_BUFFER_BYTES stayed unsent for
   * TELEHUB_ADMIN_WS_STALL_TIMEOUT_MS), or the hub could not check the token (its database is unavailable).
   */
  tryAgainLater: 1013,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Client → hub

const relativeOrAbsoluteTime = z
  .string()
  .min(1)
  .max(40)
  .describe('RFC 3339, or relative to now like "-15m", "-1h", "-7d"');

export const AdminAuthMessageSchema = z.object({ type: z.literal('auth'), token: z.string().min(1).max(500) });

export const AdminSubscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  /** Chosen by the client; names the subscription in every message about it. Reusing an id replaces it. */
  id: z.string().min(1).max(100),
  devices: z.union([z.literal('*'), z.array(z.string().uuid()).min(1).max(1000)]),
  /** An empty list: no telemetry, only the events of the devices (presence, state, device events, commands). */
  metrics: z.union([z.literal('*'), z.array(z.string().min(1).max(200)).max(100)]),
  /** How far back the snapshot goes; omitted: no history, live only (the snapshot is then empty). */
  history: relativeOrAbsoluteTime.optional(),
  /** The snapshot's bucket ("raw", "10s", "1m", …); chosen for about 1,000 points per series when omitted. */
  bucket: z.string().min(1).max(10).optional(),
  agg: z.enum(['avg', 'min', 'max', 'last', 'count']).optional(),
  /** Live messages per second for this subscription, at most the hub's TELEHUB_ADMIN_WS_MAX_RATE. */
  maxRate: z.number().positive().max(1000).optional(),
  /** Also send presence, state, device events and command status for these devices. Default true. */
  events: z.boolean().optional(),
});

export const AdminUnsubscribeMessageSchema = z.object({ type: z.literal('unsubscribe'), id: z.string().min(1) });

/** Sends a command; answered with `command_created` (same `ref`) and then `command_status` as it moves. */
export const AdminCommandMessageSchema = CreateCommandRequestSchema.extend({
  type: z.literal('command'),
  ref: z.string().max(100).optional(),
  deviceId: z.string().uuid(),
});

/** Browsers cannot send WebSocket pings: this one is answered with `pong`. */
export const AdminPingMessageSchema = z.object({ type: z.literal('ping'), ref: z.string().max(100).optional() });

export const AdminClientMessageSchema = z.discriminatedUnion('type', [
  AdminAuthMessageSchema,
  AdminSubscribeMessageSchema,
  AdminUnsubscribeMessageSchema,
  AdminCommandMessageSchema,
  AdminPingMessageSchema,
]);
export type AdminClientMessage = z.infer<typeof AdminClientMessageSchema>;

/**
 * The role each client message needs (see admin-roles.ts). A message the token's role does not allow is
 * answered with an `error` whose code is `forbidden`; the connection stays open. Typed over every message
 * type, so a new message cannot be added without deciding who may send it.
 */
export const ADMIN_MESSAGE_ROLES: Readonly<Record<AdminClientMessage['type'], AdminRole>> = {
  auth: 'viewer',
  ping: 'viewer',
  subscribe: 'viewer',
  unsubscribe: 'viewer',
  command: 'operator',
};
export type AdminSubscribeMessage = z.infer<typeof AdminSubscribeMessageSchema>;
export type AdminCommandMessage = z.infer<typeof AdminCommandMessageSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Hub → client

/** Columnar points of one series: index i of `times` (epoch ms) goes with index i of `values`. */
export interface AdminSeries {
  deviceId: string;
  metric: string;
  times: number[];
  values: number[];
}

export interface AdminAuthOkMessage {
  type: 'auth_ok';
  /** The hub process that serves this connection (TELEHUB_NODE_ID). */
  node: string;
  /** Live messages per second per subscription when `maxRate` is not given. */
  defaultRate: number;
  /** The role of the token this connection signed in with: which messages it may send. */
  role: AdminRole;
  /** Where devices reach this hub over MQTT (TCP; TLS), for connection snippets; absent when not listening. */
  mqttPort?: number;
  mqttTlsPort?: number;
}

/**
 * The answer to `subscribe`: history, then live points strictly after `watermark`, so the two join without gap
 * or duplicate. With a bucket, each point is a bucket (time = bucket start); live points are always raw.
 */
export interface AdminSnapshotMessage {
  type: 'snapshot';
  id: string;
  /** Epoch ms of the newest row the snapshot includes (its query time when it includes none). */
  watermark: number;
  from: number;
  to: number;
  bucket: string;
  bucketMs: number;
  agg: string;
  series: AdminSeries[];
}

/** Live committed points for a subscription, at most `maxRate` messages per second. */
export interface AdminPointsMessage {
  type: 'points';
  id: string;
  series: AdminSeries[];
}

/** The client read too slowly: `dropped` intermediate points were left out in favour of the newest. */
export interface AdminLaggedMessage {
  type: 'lagged';
  id: string;
  dropped: number;
}

export interface AdminUnsubscribedMessage {
  type: 'unsubscribed';
  id: string;
}

export interface AdminPresenceMessage {
  type: 'presence';
  deviceId: string;
  online: boolean;
  transport: string;
  reason?: string;
  at: number;
  /** With `online: true`: the new session's details, and the hub process (TELEHUB_NODE_ID) that holds it. */
  session?: SessionDetails & { node: string };
}

export interface AdminStateMessage {
  type: 'state';
  deviceId: string;
  state: Record<string, unknown>;
  updatedAt: number;
}

export interface AdminDeviceEventMessage {
  type: 'device_event';
  deviceId: string | null;
  eventType: string;
  detail: Record<string, unknown>;
  at: number;
}

export interface AdminCommandCreatedMessage {
  type: 'command_created';
  ref?: string;
  command: Command;
}

/** A command's status changed (any hub process); final statuses carry the whole command with its result. */
export interface AdminCommandStatusMessage {
  type: 'command_status';
  id: string;
  deviceId: string;
  name: string;
  status: CommandStatus;
  at: number;
  error?: string;
  command?: Command;
}

/** Every second, to every authenticated connection. */
export interface AdminFleetMessage {
  type: 'fleet';
  at: number;
  devices: number;
  online: number;
  /** Devices without a live session heard from within their inactivity timeout: shown online too. */
  active: number;
  messagesPerSecond: number;
  rowsPerSecond: number;
}

export interface AdminErrorMessage {
  type: 'error';
  /** The subscription or command `ref` the error is about, when it is about one. */
  id?: string;
  code: string;
  message: string;
}

export interface AdminPongMessage {
  type: 'pong';
  ref?: string;
  at: number;
}

export type AdminServerMessage =
  | AdminAuthOkMessage
  | AdminSnapshotMessage
  | AdminPointsMessage
  | AdminLaggedMessage
  | AdminUnsubscribedMessage
  | AdminPresenceMessage
  | AdminStateMessage
  | AdminDeviceEventMessage
  | AdminCommandCreatedMessage
  | AdminCommandStatusMessage
  | AdminFleetMessage
  | AdminErrorMessage
  | AdminPongMessage;
