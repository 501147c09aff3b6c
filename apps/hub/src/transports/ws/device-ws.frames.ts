/**
 * The JSON-over-WebSocket device protocol, as data: what a device may send, what the hub answers, and the
 * WebSocket close codes the hub uses. No sockets here, so it is tested on strings (device-ws.frames.spec.ts).
 * docs/device-protocol.md describes the same contract for device authors.
 */
import { type CommandMessage, DEFAULT_JSON_MAX_DEPTH, jsonTextTooDeep } from '@telehub/contracts';
import type { CloseReason } from '../../sessions/device-connection.js';

export const DEVICE_WS_PATH = '/v1/devices/ws';

/** The hub pings every device this often and drops one that has not answered the previous ping. */
export const WS_PING_INTERVAL_MS = 30_000;

export type DeviceFrame =
  | { type: 'telemetry'; seq: number; data: unknown }
  | { type: 'state'; seq: number; data: unknown }
  /** The device has the command. `seq` is optional here: with one, the hub answers with ack/error. */
  | { type: 'command_ack'; id: string; seq?: number }
  /** The device's answer: status "ok" or "error", with a result and/or an error text (checked by commands). */
  | { type: 'command_result'; id: string; seq?: number; payload: unknown };

export type FrameErrorCode = 'invalid_json' | 'json_too_deep' | 'invalid_frame';

export type ParsedFrame =
  | { ok: true; frame: DeviceFrame }
  | { ok: false; code: FrameErrorCode; message: string; seq?: number };

/**
 * What the hub sends back for each frame, in the order the frames arrived (an error about a command frame
 * names the command), and the commands it sends on its own.
 */
export type HubFrame =
  | { type: 'ack'; seq: number }
  | { type: 'error'; seq?: number; id?: string; code: string; message: string }
  | ({ type: 'command' } & CommandMessage);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Parses one text frame: `{"type":"telemetry"|"state","seq":<integer>,"data":…}`. `data` is checked by
 * ingest, like an MQTT payload or an HTTP body, so every transport rejects the same things the same way.
 * `maxDepth` (TELEHUB_JSON_MAX_DEPTH) applies to `data`: the frame's own object is one level more.
 */
export function parseDeviceFrame(text: string, maxDepth = DEFAULT_JSON_MAX_DEPTH): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: 'invalid_json', message: `frame is not valid JSON: ${(error as Error).message}` };
  }
  // V8's JSON.parse does not recurse, so the frame was safe to parse for its seq; what follows (validation,
  // serialization, the database driver) does recurse, so a deeper frame goes no further.
  if (jsonTextTooDeep(text, maxDepth + 1)) {
    const seq = (value as { seq?: unknown } | null)?.seq;
    return {
      ok: false,
      code: 'json_too_deep',
      message: `frame data nests deeper than ${maxDepth} levels (TELEHUB_JSON_MAX_DEPTH)`,
      ...(Number.isSafeInteger(seq) ? { seq: seq as number } : {}),
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      code: 'invalid_frame',
      message: 'a frame is a JSON object like {"type":"telemetry","seq":1,"data":{…}}',
    };
  }
  const { type, seq, data } = value as Record<string, unknown>;
  if (type === 'command_ack' || type === 'command_result') return parseCommandFrame(value as Record<string, unknown>);
  if (!Number.isSafeInteger(seq)) {
    return { ok: false, code: 'invalid_frame', message: `"seq" must be an integer, got ${describe(seq)}` };
  }
  const known = { seq: seq as number };
  if (type === 'telemetry' || type === 'state') return { ok: true, frame: { type, seq: known.seq, data } };
  return {
    ok: false,
    code: 'invalid_frame',
    message: `"type" must be "telemetry", "state", "command_ack" or "command_result", got ${describe(type)}`,
    ...known,
  };
}

/** `{"type":"command_ack","id"}` and `{"type":"command_result","id","status","result","error"}`, `seq` optional. */
function parseCommandFrame(frame: Record<string, unknown>): ParsedFrame {
  const { type, id, seq } = frame;
  if (seq !== undefined && !Number.isSafeInteger(seq)) {
    return { ok: false, code: 'invalid_frame', message: `"seq" must be an integer when given, got ${describe(seq)}` };
  }
  const known = seq === undefined ? {} : { seq: seq as number };
  if (typeof id !== 'string' || !UUID.test(id)) {
    return {
      ok: false,
      code: 'invalid_frame',
      message: `"id" must be the command's id, got ${describe(id)}`,
      ...known,
    };
  }
  if (type === 'command_ack') return { ok: true, frame: { type, id, ...known } };
  const { type: _type, id: _id, seq: _seq, ...payload } = frame;
  return { ok: true, frame: { type: 'command_result', id, ...known, payload } };
}

export function ackFrame(seq: number): HubFrame {
  return { type: 'ack', seq };
}

export function errorFrame(code: string, message: string, seq?: number, commandId?: string): HubFrame {
  return {
    type: 'error',
    ...(seq === undefined ? {} : { seq }),
    ...(commandId === undefined ? {} : { id: commandId }),
    code,
    message,
  };
}

/**
 * WebSocket close status for each way a session ends (RFC 6455 §7.4.1; 4000–4999 are the application's
 * own, §7.4.2). Reasons a device may not be told about (the peer is gone) have no entry.
 */
export const CLOSE_STATUS: Partial<Record<CloseReason, { code: number; reason: string }>> = {
  taken_over: { code: 4000, reason: 'session taken over' },
  token_revoked: { code: 4001, reason: 'token revoked' },
  not_authorized: { code: 4001, reason: 'not authorized' },
  server_shutdown: { code: 1001, reason: 'server shutting down' },
  rate_limited: { code: 1008, reason: 'rate limit' },
  packet_too_large: { code: 1009, reason: 'message too large' },
  protocol_error: { code: 1002, reason: 'protocol error' },
  // 1013 "Try Again Later" is in the IANA WebSocket close code registry, not in RFC 6455 itself.
  server_overloaded: { code: 1013, reason: 'server overloaded' },
};

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
