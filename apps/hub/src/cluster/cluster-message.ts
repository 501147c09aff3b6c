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
  | { kind: 'device_access_changed'; deviceId: string; close?: DeviceAccessClose };

export type DeviceAccessClose = 'token_revoked' | 'not_authorized';
export type ClusterMessageKind = ClusterMessage['kind'];
export type ClusterMessageOf<K extends ClusterMessageKind> = Extract<ClusterMessage, { kind: K }>;

/** One notice: the sending process and the messages it batched. */
export interface ClusterEnvelope {
  from: string;
  messages: ClusterMessage[];
}

const uuid = z.uuid();
const MessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session_taken_over'), to: uuid, deviceId: uuid, sessionId: uuid }),
  z.object({
    kind: z.literal('device_access_changed'),
    deviceId: uuid,
    close: z.enum(['token_revoked', 'not_authorized']).optional(),
  }),
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
