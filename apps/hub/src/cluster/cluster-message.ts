import {
  type AdminDeviceEventMessage,
  type AdminPresenceMessage,
  type AdminStateMessage,
  SessionDetailsSchema,
} from '@telehub/contracts';
import { z } from 'zod';

/**
 * What one hub process tells the others over the cluster bus (PostgreSQL NOTIFY). Only what another process
 * must act on crosses, each message small: a device id and a session id, never data.
 */
export type ClusterMessage =
  /** Session `sessionId` of the device, held by process `to`, was taken over: that process closes it. */
  | { kind: 'session_taken_over'; to: string; deviceId: string; sessionId: string }
  /**
   * The device's credentials changed (a token revoked or given an expiry, the device disabled, enabled or
   * deleted): every process forgets what it cached for the device, and with `close` ends its live session.
   */
  | { kind: 'device_access_changed'; deviceId: string; close?: DeviceAccessClose }
  /**
   * What the admin connections of process `instance` watch changed (admin_interest holds it, by reference): the
   * others read it again and answer `admin_interest_seen` with `version`, the sender's count of its changes.
   */
  | { kind: 'admin_interest_changed'; instance: string; version: number }
  /** Process `from` now sends process `to` what `to` watched as of its change `version`. */
  | { kind: 'admin_interest_seen'; from: string; to: string; version: number }
  /**
   * Live points of watched devices committed together by transaction `xid` (when known), gathered for one tick of
   * the admin rate. `dropped`: points of the series left out of this tick because it carried too many.
   */
  | { kind: 'admin_points'; xid?: string; series: CrossingSeries[] }
  /** Presence, state or a device event of a watched device, as it happened. */
  | { kind: 'admin_event'; event: CrossingEvent };

export interface CrossingSeries {
  deviceId: string;
  metric: string;
  times: number[];
  values: number[];
  dropped?: number;
}

/** An admin event as it crosses; a state too large for a notice crosses without `state` (read from the table). */
export type CrossingEvent =
  | AdminPresenceMessage
  | (Omit<AdminStateMessage, 'state'> & { state?: AdminStateMessage['state'] })
  | (AdminDeviceEventMessage & { deviceId: string });

export type DeviceAccessClose = 'token_revoked' | 'not_authorized';
export type ClusterMessageKind = ClusterMessage['kind'];
export type ClusterMessageOf<K extends ClusterMessageKind> = Extract<ClusterMessage, { kind: K }>;

/** One notice: the sending process and the messages it batched. */
export interface ClusterEnvelope {
  from: string;
  messages: ClusterMessage[];
}

const uuid = z.uuid();
const nonNegative = z.number().int().nonnegative();
const CrossingSeriesSchema = z
  .object({
    deviceId: uuid,
    metric: z.string().min(1).max(200),
    times: z.array(z.number()),
    values: z.array(z.number()),
    dropped: nonNegative.optional(),
  })
  .refine((series) => series.times.length === series.values.length, 'times and values differ in length');
const CrossingEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('presence'),
    deviceId: uuid,
    online: z.boolean(),
    transport: z.string(),
    reason: z.string().optional(),
    at: z.number(),
    session: SessionDetailsSchema.extend({ node: z.string() }).optional(),
  }),
  z.object({
    type: z.literal('state'),
    deviceId: uuid,
    state: z.record(z.string(), z.unknown()).optional(),
    updatedAt: z.number(),
  }),
  z.object({
    type: z.literal('device_event'),
    deviceId: uuid,
    eventType: z.string(),
    detail: z.record(z.string(), z.unknown()),
    at: z.number(),
  }),
]);
const AdminMessageSchemas = [
  z.object({ kind: z.literal('admin_interest_changed'), instance: uuid, version: nonNegative }),
  z.object({ kind: z.literal('admin_interest_seen'), from: uuid, to: uuid, version: nonNegative }),
  z.object({
    kind: z.literal('admin_points'),
    xid: z.string().regex(/^\d+$/).optional(),
    series: z.array(CrossingSeriesSchema),
  }),
  z.object({ kind: z.literal('admin_event'), event: CrossingEventSchema }),
] as const;
const MessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session_taken_over'), to: uuid, deviceId: uuid, sessionId: uuid }),
  z.object({
    kind: z.literal('device_access_changed'),
    deviceId: uuid,
    close: z.enum(['token_revoked', 'not_authorized']).optional(),
  }),
  ...AdminMessageSchemas,
]);
const EnvelopeSchema = z.object({ from: uuid, messages: z.array(z.unknown()) });

/**
 * Packs messages into as few notice payloads as fit `maxBytes` each (UTF-8), in order. A message that alone
 * would not fit is returned in `oversized`, not sent: NOTIFY refuses payloads of 8,000 bytes and more, and
 * anything that large must go by reference to a table.
 */
export function packMessages(
  from: string,
  messages: readonly ClusterMessage[],
  maxBytes: number,
): { payloads: string[]; oversized: ClusterMessage[] } {
  const head = `{"from":${JSON.stringify(from)},"messages":[`;
  const tail = ']}';
  const payloads: string[] = [];
  const oversized: ClusterMessage[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const emptyBytes = Buffer.byteLength(head) + Buffer.byteLength(tail);
  for (const message of messages) {
    const text = JSON.stringify(message);
    const size = Buffer.byteLength(text);
    if (emptyBytes + size > maxBytes) {
      oversized.push(message);
      continue;
    }
    // One more byte for the comma between messages.
    if (parts.length > 0 && emptyBytes + bytes + 1 + size > maxBytes) {
      payloads.push(head + parts.join(',') + tail);
      parts = [];
      bytes = 0;
    }
    bytes += (parts.length > 0 ? 1 : 0) + size;
    parts.push(text);
  }
  if (parts.length > 0) payloads.push(head + parts.join(',') + tail);
  return { payloads, oversized };
}

/**
 * The envelope in a notice payload, with the messages this version understands; undefined when the payload is
 * not one (another version's, or damaged). Messages of kinds it does not know are skipped, so processes of two
 * versions can share a database during a rolling upgrade.
 */
export function unpackPayload(payload: string): ClusterEnvelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return undefined;
  const messages: ClusterMessage[] = [];
  for (const item of envelope.data.messages) {
    const message = MessageSchema.safeParse(item);
    if (message.success) messages.push(message.data);
  }
  return { from: envelope.data.from, messages };
}
