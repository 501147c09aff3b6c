import { eventually } from './devices.js';
import type { ApiResponse, TestHub } from './test-hub.js';

export interface CommandBody {
  name: string;
  params?: unknown;
  ttlSeconds?: number;
  idempotencyKey?: string;
}

export function createCommand(hub: TestHub, deviceId: string, body: CommandBody, wait?: number): Promise<ApiResponse> {
  const query = wait === undefined ? '' : `?wait=${wait}`;
  return hub.api('POST', `/api/v1/devices/${deviceId}/commands${query}`, { body });
}

// biome-ignore lint/suspicious/noExplicitAny: tests read the command's JSON as the API returns it
export async function getCommand(hub: TestHub, deviceId: string, commandId: string): Promise<any> {
  const response = await hub.api('GET', `/api/v1/devices/${deviceId}/commands/${commandId}`);
  if (response.status !== 200) throw new Error(`GET command: ${response.status} ${response.text}`);
  return response.body;
}

/** Polls the API until the command reaches `status` (transitions commit asynchronously to the device's acks). */
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function commandReaches(hub: TestHub, deviceId: string, commandId: string, status: string): Promise<any> {
  const command = await eventually(async () => {
    const current = await getCommand(hub, deviceId, commandId);
    return current.status === status ? current : undefined;
  }, 5000);
  if (!command) {
    const current = await getCommand(hub, deviceId, commandId);
    throw new Error(`command ${commandId} is ${current.status}, expected ${status}`);
  }
  return command;
}

export function statuses(command: { transitions: { status: string }[] }): string[] {
  return command.transitions.map((transition) => transition.status);
}
