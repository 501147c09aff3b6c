import { createTestDatabase } from '@telehub/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { expectProblem, validationFields } from './support/api-assertions.js';
import { commandReaches, createCommand, getCommand, statuses } from './support/commands.js';
import { eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const MAX_QUEUED = 3;

describe('commands REST API', () => {
  let hub: TestHub;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_COMMAND_MAX_QUEUED: String(MAX_QUEUED),
      TELEHUB_COMMAND_MAX_PARAMS_BYTES: '1024',
      TELEHUB_COMMAND_MAX_TTL_SECONDS: '3600',
      TELEHUB_COMMAND_MAX_WAIT_SECONDS: '5',
      TELEHUB_COMMAND_SWEEP_INTERVAL_MS: '200',
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  /** An MQTT.js device that answers every command after `delayMs` with `{"status":"ok","result":{"echo":name}}`. */
  async function answeringDevice(device: ProvisionedDevice, delayMs: number): Promise<MqttClient> {
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      username: device.id,
      password: device.token,
    });
    clients.push(client);
    client.on('message', (_topic, payload, packet) => {
      const command = JSON.parse(payload.toString());
      setTimeout(() => {
        const answer = JSON.stringify({ status: 'ok', result: { echo: command.name } });
        void client.publishAsync(packet.properties!.responseTopic!, answer, { qos: 1 }).catch(() => undefined);
      }, delayMs);
    });
    await client.subscribeAsync('devices/me/commands', { qos: 1 });
    return client;
  }

  it('validates input as Problem Details', async () => {
    const device = await provisionDevice(hub);
    expectProblem(await createCommand(hub, device.id, { name: 'has space' }), 400, 'validation_failed');
    expectProblem(await createCommand(hub, device.id, { name: '' }), 400, 'validation_failed');
    const big = await createCommand(hub, device.id, { name: 'load', params: { blob: 'x'.repeat(2000) } });
    expectProblem(big, 400, 'validation_failed');
    expect(big.body.detail).toContain('TELEHUB_COMMAND_MAX_PARAMS_BYTES');
    const long = await createCommand(hub, device.id, { name: 'reboot', ttlSeconds: 7200 });
    expect(long.body.detail).toContain('TELEHUB_COMMAND_MAX_TTL_SECONDS');
    const extra = await hub.api('POST', `/api/v1/devices/${device.id}/commands`, { body: { name: 'x', foo: 1 } });
    expectProblem(extra, 400, 'validation_failed');
    expectProblem(await createCommand(hub, device.id, { name: 'reboot' }, 60), 400, 'validation_failed');
    expect(validationFields(await hub.api('GET', `/api/v1/devices/${device.id}/commands?status=done`))).toEqual([
      'status',
    ]);
  });

  it('names a bad path parameter in the validation problem', async () => {
    const device = await provisionDevice(hub);
    const commands = `/api/v1/devices/${device.id}/commands`;
    expect(validationFields(await hub.api('GET', `${commands}/not-a-uuid`))).toEqual(['commandId']);
    expect(validationFields(await hub.api('POST', `${commands}/not-a-uuid/cancel`))).toEqual(['commandId']);
    expect(validationFields(await hub.api('GET', '/api/v1/devices/not-a-uuid/commands'))).toEqual(['deviceId']);
    expect(validationFields(await createCommand(hub, 'not-a-uuid', { name: 'reboot' }))).toEqual(['deviceId']);
    const both = await hub.api('GET', '/api/v1/devices/not-a-uuid/commands/not-a-uuid-either');
    expect(validationFields(both)).toEqual(['commandId', 'deviceId']);
    expect(both.body.detail).toMatch(/deviceId: device id must be a UUID/);
  });

  it('answers 404 for an unknown device or command', async () => {
    const missing = '0196a1f2-7c3e-7a00-8000-0000000000aa';
    expectProblem(await createCommand(hub, missing, { name: 'reboot' }), 404, 'device_not_found');
    expectProblem(await hub.api('GET', `/api/v1/devices/${missing}/commands`), 404, 'device_not_found');
    const device = await provisionDevice(hub);
    expectProblem(await hub.api('GET', `/api/v1/devices/${device.id}/commands/${missing}`), 404, 'command_not_found');
    const other = await provisionDevice(hub);
    const created = await createCommand(hub, other.id, { name: 'reboot' });
    // A command is found only under its own device.
    const foreign = await hub.api('GET', `/api/v1/devices/${device.id}/commands/${created.body.id}`);
    expectProblem(foreign, 404, 'command_not_found');
  });

  it('refuses more than TELEHUB_COMMAND_MAX_QUEUED unfinished commands with 429; finished ones make room', async () => {
    const device = await provisionDevice(hub);
    const created = [];
    for (let index = 0; index < MAX_QUEUED; index += 1) {
      created.push(await createCommand(hub, device.id, { name: `c${index}` }));
    }
    const refused = await createCommand(hub, device.id, { name: 'one_too_many' });
    expectProblem(refused, 429, 'command_queue_full');
    expect(refused.body.detail).toContain('TELEHUB_COMMAND_MAX_QUEUED');
    await hub.api('POST', `/api/v1/devices/${device.id}/commands/${created[0]!.body.id}/cancel`);
    expect((await createCommand(hub, device.id, { name: 'now_fits' })).status).toBe(201);
  });

  it('returns the existing command for a repeated idempotency key, per device', async () => {
    const device = await provisionDevice(hub);
    const first = await createCommand(hub, device.id, { name: 'reboot', idempotencyKey: 'maintenance-42' });
    expect(first.status).toBe(201);
    const again = await createCommand(hub, device.id, { name: 'reboot', idempotencyKey: 'maintenance-42' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await provisionDevice(hub);
    const elsewhere = await createCommand(hub, other.id, { name: 'reboot', idempotencyKey: 'maintenance-42' });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.id).not.toBe(first.body.id);
    const [a, b] = await Promise.all([
      createCommand(hub, device.id, { name: 'x', idempotencyKey: 'race' }),
      createCommand(hub, device.id, { name: 'x', idempotencyKey: 'race' }),
    ]);
    expect(a.body.id).toBe(b.body.id);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
  });

  it('answers 422 idempotency_key_reused when a key comes back with a different name, params or ttlSeconds', async () => {
    const device = await provisionDevice(hub);
    const body = { name: 'set_mode', params: { mode: 'eco', zones: [1, 2] }, ttlSeconds: 600, idempotencyKey: 'k1' };
    const first = await createCommand(hub, device.id, body);
    expect(first.status).toBe(201);
    // The same request, its params keys in another order: JSON equality, so the existing command (200).
    const reordered = { ...body, params: { zones: [1, 2], mode: 'eco' } };
    const same = await createCommand(hub, device.id, reordered);
    expect([same.status, same.body.id]).toEqual([200, first.body.id]);

    const changes: [Partial<typeof body>, string][] = [
      [{ name: 'set_mood' }, 'name'],
      [{ params: { mode: 'eco', zones: [2, 1] } }, 'params'],
      [{ ttlSeconds: 60 }, 'ttlSeconds'],
    ];
    for (const [change, field] of changes) {
      const response = await createCommand(hub, device.id, { ...body, ...change });
      const problem = expectProblem(response, 422, 'idempotency_key_reused');
      expect(problem.errors.map((error: { field: string }) => error.field)).toEqual([field]);
      expect(problem.detail).toContain(first.body.id);
    }
    const all = await createCommand(hub, device.id, { name: 'other', idempotencyKey: 'k1' });
    const problem = expectProblem(all, 422, 'idempotency_key_reused');
    expect(problem.errors.map((error: { field: string }) => error.field)).toEqual(['name', 'params', 'ttlSeconds']);
    const [row] = await hub.database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM commands WHERE device_id = ${device.id}`;
    expect(row!.count).toBe(1);

    // Left-out params and time-to-live compare as their defaults ({} and TELEHUB_COMMAND_DEFAULT_TTL_SECONDS).
    const bare = await createCommand(hub, device.id, { name: 'reboot', idempotencyKey: 'k2' });
    expect(bare.status).toBe(201);
    const spelledOut = await createCommand(hub, device.id, { name: 'reboot', params: {}, idempotencyKey: 'k2' });
    expect([spelledOut.status, spelledOut.body.id]).toEqual([200, bare.body.id]);
  });

  it('cancels an unfinished command and refuses to cancel a finished one (409)', async () => {
    const device = await provisionDevice(hub);
    const created = await createCommand(hub, device.id, { name: 'reboot' });
    const cancel = `/api/v1/devices/${device.id}/commands/${created.body.id}/cancel`;
    const cancelled = await hub.api('POST', cancel);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(statuses(cancelled.body)).toEqual(['queued', 'cancelled']);
    expectProblem(await hub.api('POST', cancel), 409, 'command_final');
  });

  it('with wait, answers with the result as soon as the device sends it', async () => {
    const device = await provisionDevice(hub);
    await answeringDevice(device, 100);
    const started = Date.now();
    const response = await createCommand(hub, device.id, { name: 'ping' }, 5);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'succeeded', result: { echo: 'ping' } });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('with wait, answers with the command as it stands when the wait ends first', async () => {
    const device = await provisionDevice(hub);
    const started = Date.now();
    const response = await createCommand(hub, device.id, { name: 'ping' }, 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(response.status).toBe(201);
    expect(response.body.status).toBe('queued');
  });

  it('expires a command whose time-to-live passes while the device is offline; it is never sent', async () => {
    const device = await provisionDevice(hub);
    const created = await createCommand(hub, device.id, { name: 'reboot', ttlSeconds: 1 });
    const expired = await commandReaches(hub, device.id, created.body.id, 'expired');
    expect(statuses(expired)).toEqual(['queued', 'expired']);
    expect(expired.sentAt).toBeNull();
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      reconnectPeriod: 0,
      username: device.id,
      password: device.token,
    });
    clients.push(client);
    const received: string[] = [];
    client.on('message', (_topic, payload) => received.push(payload.toString()));
    await client.subscribeAsync('devices/me/commands', { qos: 1 });
    // The marker: a command created now. Commands of a device go out oldest first, one delivery after another,
    // so once this one has arrived, the expired one would have arrived before it.
    const marker = await createCommand(hub, device.id, { name: 'marker' });
    await eventually(async () => received.length > 0);
    expect(received.map((text) => JSON.parse(text).id)).toEqual([marker.body.id]);
  });

  it('lists a device’s commands newest first, filtered by status, with cursor pagination', async () => {
    const device = await provisionDevice(hub);
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) ids.push((await createCommand(hub, device.id, { name })).body.id);
    await hub.api('POST', `/api/v1/devices/${device.id}/commands/${ids[1]}/cancel`);
    const base = `/api/v1/devices/${device.id}/commands`;
    const firstPage = await hub.api('GET', `${base}?limit=2`);
    expect(firstPage.body.items.map((command: { name: string }) => command.name)).toEqual(['c', 'b']);
    const secondPage = await hub.api('GET', `${base}?limit=2&cursor=${firstPage.body.nextCursor}`);
    expect(secondPage.body.items.map((command: { name: string }) => command.name)).toEqual(['a']);
    expect(secondPage.body.nextCursor).toBeNull();
    const queued = await hub.api('GET', `${base}?status=queued`);
    expect(queued.body.items.map((command: { name: string }) => command.name)).toEqual(['c', 'a']);
    const finished = await hub.api('GET', `${base}?status=cancelled,succeeded`);
    expect(finished.body.items.map((command: { id: string }) => command.id)).toEqual([ids[1]]);
  });

  it('is in the OpenAPI document', async () => {
    const document = (await hub.api('GET', '/api/openapi.json', { auth: false })).body;
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/devices/{deviceId}/commands',
        '/api/v1/devices/{deviceId}/commands/{commandId}',
        '/api/v1/devices/{deviceId}/commands/{commandId}/cancel',
      ]),
    );
    expect(document.components.schemas.Command).toBeDefined();
  });
});

describe('commands across a hub restart', () => {
  it('keeps queued commands and delivers them when the device connects to the restarted hub', async () => {
    const database = await createTestDatabase();
    const first = await startTestHub({}, { database });
    const device = await provisionDevice(first);
    const created = await createCommand(first, device.id, { name: 'after_restart', params: { n: 1 } });
    await first.close();

    const second = await startTestHub({}, { database });
    try {
      const client = await mqtt.connectAsync(second.mqttUrl, {
        reconnectPeriod: 0,
        username: device.id,
        password: device.token,
      });
      const received: { id: string; name: string }[] = [];
      client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString())));
      await client.subscribeAsync('devices/me/commands', { qos: 1 });
      const delivered = await commandReaches(second, device.id, created.body.id, 'delivered');
      expect(received).toEqual([expect.objectContaining({ id: created.body.id, name: 'after_restart' })]);
      expect(statuses(delivered)).toEqual(['queued', 'sent', 'delivered']);
      expect((await getCommand(second, device.id, created.body.id)).params).toEqual({ n: 1 });
      await client.endAsync();
    } finally {
      await second.close();
      await database.drop();
    }
  });

  it('reaches a device connected to another hub on the same database (NOTIFY), and the first hub sees the result', async () => {
    const database = await createTestDatabase();
    // Hubs on one database share their TELEHUB_ADMIN_TOKEN (another value would revoke the first).
    const adminToken = generateToken('admin').token;
    const [apiHub, deviceHub] = await Promise.all([
      startTestHub({ TELEHUB_NODE_ID: 'hub-a' }, { database, adminToken }),
      startTestHub({ TELEHUB_NODE_ID: 'hub-b' }, { database, adminToken }),
    ]);
    try {
      const device = await provisionDevice(apiHub);
      const client = await mqtt.connectAsync(deviceHub.mqttUrl, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        username: device.id,
        password: device.token,
      });
      client.on('message', (_topic, payload, packet) => {
        const command = JSON.parse(payload.toString());
        const answer = JSON.stringify({ status: 'ok', result: { node: 'hub-b', name: command.name } });
        void client.publishAsync(packet.properties!.responseTopic!, answer, { qos: 1 });
      });
      await client.subscribeAsync('devices/me/commands', { qos: 1 });
      const response = await createCommand(apiHub, device.id, { name: 'cross_node' }, 5);
      expect(response.body).toMatchObject({ status: 'succeeded', result: { node: 'hub-b', name: 'cross_node' } });
      expect(statuses(response.body)).toEqual(['queued', 'sent', 'delivered', 'succeeded']);
      await client.endAsync();
    } finally {
      await Promise.all([apiHub.close(), deviceHub.close()]);
      await database.drop();
    }
  });
});
