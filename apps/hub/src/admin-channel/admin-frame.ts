import { ADMIN_MESSAGE_ROLES, parseJsonText } from '@telehub/contracts';

/**
 * The events a frame is routed to besides the client message types (which are routed by their `type`): frames
 * that are no JSON text, and JSON that names no message type this channel knows. Neither can be a client's
 * `type`: only the known types are taken from the frame.
 */
export const UNREADABLE_FRAME = 'unreadable frame';
export const UNKNOWN_MESSAGE = 'unknown message';

/** A frame that is not one JSON text: binary, not JSON, or nested deeper than TELEHUB_JSON_MAX_DEPTH. */
export type UnreadableFrame =
  | { binary: true }
  | { binary: false; code: 'invalid_json' | 'json_too_deep'; message: string };

/** A frame as `ws` hands it to event listeners: text as a string, binary as a Buffer (or its fragments). */
export type FrameData = string | Buffer | ArrayBuffer | Buffer[];

/**
 * The admin channel's framing (docs/admin-protocol.md): one JSON object per text frame, routed by its `type` to
 * the gateway's handler of that message (which validates it). Nest's default parser expects `{event, data}`.
 */
export function routeAdminFrame(frame: FrameData, maxJsonDepth: number): { event: string; data: unknown } {
  if (typeof frame !== 'string') return { event: UNREADABLE_FRAME, data: { binary: true } };
  const text = parseJsonText(frame, maxJsonDepth);
  if (!text.ok) {
    const message = text.code === 'invalid_json' ? 'a message is one JSON object' : `a message ${text.message}`;
    return { event: UNREADABLE_FRAME, data: { binary: false, code: text.code, message } };
  }
  const type = (text.value as { type?: unknown } | null)?.type;
  const known = typeof type === 'string' && Object.hasOwn(ADMIN_MESSAGE_ROLES, type);
  return { event: known ? type : UNKNOWN_MESSAGE, data: text.value };
}
