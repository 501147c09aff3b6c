import type { Command, CommandMessage } from '@telehub/contracts';
import type { CommandRecord } from '@telehub/db';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** A command as the REST API and the admin channel show it. */
export function presentCommand(record: CommandRecord): Command {
  return {
    id: record.id,
    deviceId: record.deviceId,
    name: record.name,
    params: record.params,
    status: record.status,
    idempotencyKey: record.idempotencyKey,
    createdAt: iso(record.createdAt),
    expiresAt: iso(record.expiresAt),
    sentAt: isoOrNull(record.sentAt),
    deliveredAt: isoOrNull(record.deliveredAt),
    finishedAt: isoOrNull(record.finishedAt),
    sendCount: record.sendCount,
    result: record.result ?? null,
    error: record.error,
    transitions: record.transitions.map((transition) => ({ status: transition.status, at: iso(transition.at) })),
  };
}

/** A command as the device receives it (MQTT payload; the WebSocket frame adds "type": "command"). */
export function commandMessage(record: CommandRecord): CommandMessage {
  return { id: record.id, name: record.name, params: record.params, expiresAt: iso(record.expiresAt) };
}
