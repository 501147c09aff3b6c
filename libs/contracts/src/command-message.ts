import type { CommandMessage } from './command.schemas.js';

export type ParsedCommand = { ok: true; command: CommandMessage } | { ok: false; message: string };

/**
 * Reads a command as the hub sends it: the MQTT payload `{"id","name","params","expiresAt"}`, or the same fields
 * in a WebSocket frame next to `"type":"command"`. Other fields are ignored, so the hub may add some.
 */
export function parseCommandMessage(value: unknown): ParsedCommand {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'a command is a JSON object {"id","name","params","expiresAt"}' };
  }
  const { id, name, params, expiresAt } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') return { ok: false, message: 'the command has no "id"' };
  if (typeof name !== 'string') return { ok: false, message: `command ${id} has no "name"` };
  if (typeof expiresAt !== 'string') return { ok: false, message: `command ${id} has no "expiresAt"` };
  return { ok: true, command: { id, name, params: params ?? {}, expiresAt } };
}
