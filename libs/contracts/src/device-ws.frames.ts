/**
 * The JSON-over-WebSocket device protocol, as data: what a device may send and how the hub reads it, what the hub
 * answers and how a device reads that. No sockets here, so it is tested on strings (device-ws.frames.spec.ts);
 * the close codes are in device-ws.close-codes.ts. docs/device-protocol.md describes the same contract for device
 * authors.
 */

import type { CommandMessage, CommandResultPayload } from './command.schemas.js';
import { parseCommandMessage } from './command-message.js';
import { DEFAULT_JSON_MAX_DEPTH, jsonTextTooDeep } from './json-safety.js';

export const DEVICE_WS_PATH = '/v1/devices/ws';

/** The hub pings every device this often and drops one that has not answered the previous ping. */
export const DEVICE_WS_PING_INTERVAL_MS = 30_000;

/** A frame as the hub reads it (parseDeviceFrame). */
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

/** A frame as a device writes it: the wire form of DeviceFrame (a result's fields sit beside the command's `id`). */
export type OutgoingDeviceFrame =
  | { type: 'telemetry' | 'state'; seq: number; data: unknown }
  | { type: 'command_ack'; id: string; seq?: number }
  | ({ type: 'command_result'; id: string; seq?: number } & CommandResultPayload);

export type ParsedHubFrame = { ok: true; frame: HubFrame } | { ok: false; message: string };

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
 * Reads one text frame from the hub, on the device's side. Fields it does not know are ignored, so the hub may add
 * some; an `ack` without an integer `seq`, or a command without its fields, is refused.
 */
export function parseHubFrame(text: string): ParsedHubFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `a frame is a JSON object, got ${describe(value)}` };
  }
  const frame = value as Record<string, unknown>;
  const seq = Number.isSafeInteger(frame.seq) ? (frame.seq as number) : undefined;
  switch (frame.type) {
    case 'ack':
      if (seq === undefined) return { ok: false, message: `an ack needs an integer "seq", got ${describe(frame.seq)}` };
      return { ok: true, frame: { type: 'ack', seq } };
    case 'error':
      return {
        ok: true,
        frame: {
          type: 'error',
          ...(seq === undefined ? {} : { seq }),
          ...(typeof frame.id === 'string' ? { id: frame.id } : {}),
          code: String(frame.code),
          message: String(frame.message),
        },
      };
    case 'command': {
      const command = parseCommandMessage(frame);
      if (!command.ok) return { ok: false, message: `unreadable command: ${command.message}` };
      return { ok: true, frame: { type: 'command', ...command.command } };
    }
    default:
      return { ok: false, message: `unknown frame type ${describe(frame.type)}` };
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
