import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { NodeIdentity } from '../../src/common/node-identity.js';
import { startTestHub, type TestHub } from './test-hub.js';

/** Lease settings short enough for tests: renewed every 200 ms, lapsed after 1 s. */
export const FAST_LEASES = { TELEHUB_NODE_LEASE_RENEW_MS: '200', TELEHUB_NODE_LEASE_TTL_MS: '1000' };

/**
 * Two hub processes' worth of hub (each its own Nest app, pool, LISTEN connection and lease) on one database,
 * named hub-a and hub-b, with fast leases and `env`. `close` stops both and drops the database.
 */
export async function startHubPair(
  env: Record<string, string> = {},
): Promise<{ a: TestHub; b: TestHub; close(): Promise<void> }> {
  const a = await startTestHub({ ...FAST_LEASES, ...env, TELEHUB_NODE_ID: 'hub-a' });
  const b = await startTestHub(
    { ...FAST_LEASES, ...env, TELEHUB_NODE_ID: 'hub-b' },
    { database: a.database, adminToken: a.adminToken },
  );
  return {
    a,
    b,
    close: async () => {
      await b.close();
      await a.close();
    },
  };
}

/** The instance id of an in-process hub. */
export function instanceOf(hub: TestHub): string {
  return hub.hub.app.get(NodeIdentity).instanceId;
}

/** A device row's presence as the database has it. */
export async function presenceRow(
  hub: TestHub,
  deviceId: string,
): Promise<{ online: boolean; instance: string | null; sessionId: string | null; reason: string | null }> {
  const [row] = await hub.database.client.sql<
    { online: boolean; instance: string | null; sessionId: string | null; reason: string | null }[]
  >`SELECT online, connected_instance AS instance, session_id AS "sessionId", disconnect_reason AS reason
    FROM devices WHERE id = ${deviceId}`;
  if (!row) throw new Error(`no device ${deviceId}`);
  return row;
}

/** The first DISCONNECT of each client made by connectMqtt, watched from its creation. */
const firstDisconnects = new WeakMap<MqttClient, Promise<{ reasonCode: number | undefined; at: number }>>();

/**
 * MQTT.js connected as `device` (MQTT 5 unless told), never reconnecting by itself; resolved once connected. Its first DISCONNECT is watched from the start: a hub may send it
 * right behind the CONNACK (a session taken over while its CONNECT was being answered), in the same segment, so a
 * listener attached once `connect` has resolved would miss it.
 */
export function connectMqtt(
  url: string,
  device: { id: string; token: string },
  options: IClientOptions = {},
): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    username: device.id,
    password: device.token,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  firstDisconnects.set(
    client,
    new Promise((resolve) =>
      client.once('disconnect', (packet) => resolve({ reasonCode: packet.reasonCode, at: Date.now() })),
    ),
  );
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** Resolves with the DISCONNECT reason code the hub sent (MQTT 5), and when it arrived. */
export function disconnectOf(client: MqttClient): Promise<{ reasonCode: number | undefined; at: number }> {
  return (
    firstDisconnects.get(client) ??
    new Promise((resolve) =>
      client.once('disconnect', (packet) => resolve({ reasonCode: packet.reasonCode, at: Date.now() })),
    )
  );
}

/** The CONNACK refusal of a connection attempt (MQTT.js rejects with the reason code). */
export async function connectRefusal(url: string, device: { id: string; token: string }): Promise<number | 'accepted'> {
  try {
    const client = await connectMqtt(url, device);
    await client.endAsync(true);
    return 'accepted';
  } catch (error) {
    return (error as { code: number }).code;
  }
}
