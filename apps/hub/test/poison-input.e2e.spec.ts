import { RawMqttClient } from '@telehub/mqtt';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from './support/admin-client.js';
import { createCommand } from './support/commands.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { countRows, deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { pubackReason } from './support/mqtt.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/** About 30 KB nested 5,000 levels: what overflowed the hub's stack in every transport. */
const DEEP = `${'{"x":'.repeat(5000)}1${'}'.repeat(5000)}`;
const deepIn = (key: string) => `{"${key}":${DEEP}}`;
/** JSON text with an escaped U+0000 and a lone surrogate: valid JSON, refused by PostgreSQL. */
const NUL_STATE = '{"fw":"1.0\\u0000"}';
const SURROGATE_STATE = '{"fw":"\\ud800"}';

const clients: MqttClient[] = [];
const sockets: DeviceSocket[] = [];

describe('poison input: refused as invalid, never an outage', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_STATE_MAX_BYTES: '1024' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
    for (const socket of sockets.splice(0)) socket.ws.terminate();
  });
  afterAll(() => hub?.close());

  async function mqttDevice(device: ProvisionedDevice, protocolVersion: 4 | 5, options: IClientOptions = {}) {
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
      ...options,
    });
    clients.push(client);
    return client;
  }

  async function wsDevice(device: ProvisionedDevice): Promise<DeviceSocket> {
    const socket = await connectDeviceSocket(hub.baseUrl, device.token);
    sockets.push(socket);
    return socket;
  }

  function devicePost(device: ProvisionedDevice, path: 'telemetry' | 'state', rawBody: string) {
    return hub.api('POST', `/api/v1/device/${path}`, {
      rawBody,
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
    });
  }

  async function rejectionCodes(deviceId: string): Promise<unknown[]> {
    return (await deviceEvents(hub, deviceId))
      .filter((event) => event.type === 'message_rejected')
      .map((event) => event.detail.code);
  }

  async function reportedState(deviceId: string): Promise<Record<string, unknown>> {
    const response = await hub.api('GET', `/api/v1/devices/${deviceId}`);
    return response.body.state;
  }

  describe('1. JSON nested deeper than TELEHUB_JSON_MAX_DEPTH (32)', () => {
    it('HTTP: telemetry and state answer 400 json_too_deep', async () => {
      const device = await provisionDevice(hub);
      for (const path of ['telemetry', 'state'] as const) {
        const response = await devicePost(device, path, deepIn('temp'));
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ code: 'json_too_deep', detail: expect.stringMatching(/32 levels/) });
      }
      expect((await devicePost(device, 'telemetry', '{"temp":1}')).status).toBe(200);
    });

    it('MQTT 5: PUBACK 0x99 for telemetry, state and a command result; the session goes on', async () => {
      const device = await provisionDevice(hub);
      const client = await mqttDevice(device, 5);
      const command = await createCommand(hub, device.id, { name: 'reboot' });
      expect(await pubackReason(client, 'devices/me/state', deepIn('fw'))).toBe(0x99);
      expect(await pubackReason(client, 'devices/me/telemetry', deepIn('temp'))).toBe(0x99);
      const resultTopic = `devices/me/commands/${command.body.id}/result`;
      expect(await pubackReason(client, resultTopic, `{"status":"ok","result":${DEEP}}`)).toBe(0x99);
      expect(await pubackReason(client, 'devices/me/telemetry', '{"temp":2}')).toBe(0);
      expect(client.connected).toBe(true);
      expect(await countRows(hub, device.id)).toBe(1);
      expect(await eventually(() => rejectionCodes(device.id))).toContain('json_too_deep');
    });

    it('MQTT 3.1.1: acknowledged once (never resent) and recorded as rejected', async () => {
      const device = await provisionDevice(hub);
      const client = await mqttDevice(device, 4);
      await client.publishAsync('devices/me/state', deepIn('fw'), { qos: 1 });
      await client.publishAsync('devices/me/telemetry', '{"temp":3}', { qos: 1 });
      expect(client.connected).toBe(true);
      const codes = await eventually(async () => {
        const found = await rejectionCodes(device.id);
        return found.length > 0 ? found : undefined;
      });
      expect(codes).toEqual(['json_too_deep']);
      expect(await countRows(hub, device.id)).toBe(1);
    });

    it('WebSocket: an error frame json_too_deep with the seq, for telemetry, state and command_result', async () => {
      const device = await provisionDevice(hub);
      const socket = await wsDevice(device);
      const command = await createCommand(hub, device.id, { name: 'reboot' });
      await socket.next(); // the command
      for (const [seq, type] of [
        [1, 'telemetry'],
        [2, 'state'],
      ] as const) {
        const answer = await socket.request(`{"type":"${type}","seq":${seq},"data":${deepIn('x')}}`);
        expect(answer).toMatchObject({ type: 'error', seq, code: 'json_too_deep' });
      }
      const result = await socket.request(
        `{"type":"command_result","id":"${command.body.id}","seq":3,"status":"ok","result":${DEEP}}`,
      );
      expect(result).toMatchObject({ type: 'error', seq: 3, code: 'json_too_deep' });
      expect(await socket.request({ type: 'telemetry', seq: 4, data: { temp: 1 } })).toEqual({ type: 'ack', seq: 4 });
    });

    it('admin REST and the admin channel: 400 json_too_deep for metadata, command params and channel messages', async () => {
      const device = await provisionDevice(hub);
      const headers = { 'Content-Type': 'application/json' };
      const created = await hub.api('POST', '/api/v1/devices', { rawBody: `{"name":"d","metadata":${DEEP}}`, headers });
      expect(created.status).toBe(400);
      expect(created.body.code).toBe('json_too_deep');
      const patched = await hub.api('PATCH', `/api/v1/devices/${device.id}`, { rawBody: deepIn('metadata'), headers });
      expect(patched.body.code).toBe('json_too_deep');
      const command = await hub.api('POST', `/api/v1/devices/${device.id}/commands`, {
        rawBody: `{"name":"reboot","params":${DEEP}}`,
        headers,
      });
      expect(command.status).toBe(400);
      expect(command.body.code).toBe('json_too_deep');
      const csv = await hub.api('POST', '/api/v1/devices/bulk', {
        rawBody: `name,metadata\nsensor,"${DEEP.replaceAll('"', '""')}"\n`,
        headers: { 'Content-Type': 'text/csv' },
      });
      expect(csv.status).toBe(400);
      expect(csv.text).toMatch(/nests deeper than 32 levels/);

      const admin = await AdminClient.signedIn(hub.baseUrl, hub.adminToken!);
      admin.ws.send(`{"type":"subscribe","id":"s1","deviceId":"${device.id}","extra":${DEEP}}`);
      expect(await admin.next('error')).toMatchObject({ code: 'json_too_deep' });
      admin.close();
    });
  });

  describe('2. strings PostgreSQL refuses (U+0000, lone surrogates)', () => {
    it('state: MQTT 5 0x99, HTTP 400, WebSocket error frame; nothing stored', async () => {
      const device = await provisionDevice(hub);
      const client = await mqttDevice(device, 5);
      expect(await pubackReason(client, 'devices/me/state', NUL_STATE)).toBe(0x99);
      expect(await pubackReason(client, 'devices/me/state', SURROGATE_STATE)).toBe(0x99);
      expect(await pubackReason(client, 'devices/me/state', '{"k\\u0000":1}')).toBe(0x99);
      for (const body of [NUL_STATE, SURROGATE_STATE]) {
        const response = await devicePost(device, 'state', body);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ code: 'invalid_payload', detail: expect.stringMatching(/U\+0000/) });
      }
      expect(await reportedState(device.id)).toEqual({});
      expect(await pubackReason(client, 'devices/me/state', '{"fw":"1.1"}')).toBe(0);
      // The WebSocket session takes over from the MQTT one.
      const socket = await wsDevice(device);
      const answer = await socket.request(`{"type":"state","seq":7,"data":${SURROGATE_STATE}}`);
      expect(answer).toMatchObject({ type: 'error', seq: 7, code: 'invalid_payload' });
      expect(await reportedState(device.id)).toEqual({ fw: '1.1' });
    });

    it('command results: answered with invalid_result over WebSocket and 0x99 over MQTT 5', async () => {
      const device = await provisionDevice(hub);
      const socket = await wsDevice(device);
      const first = await createCommand(hub, device.id, { name: 'reboot' });
      await socket.next();
      const answer = await socket.request(
        `{"type":"command_result","id":"${first.body.id}","seq":1,"status":"ok","result":{"log":"a\\u0000b"}}`,
      );
      expect(answer).toMatchObject({ type: 'error', seq: 1, id: first.body.id, code: 'invalid_result' });
      socket.close();

      const client = await mqttDevice(device, 5);
      const second = await createCommand(hub, device.id, { name: 'reboot' });
      const topic = `devices/me/commands/${second.body.id}/result`;
      expect(await pubackReason(client, topic, '{"status":"error","error":"\\ud800"}')).toBe(0x99);
      expect(await pubackReason(client, topic, '{"status":"ok"}')).toBe(0);
    });

    it('admin REST: 400 for U+0000 or lone surrogates in names, labels, metadata, params and idempotency keys', async () => {
      const device = await provisionDevice(hub);
      const headers = { 'Content-Type': 'application/json' };
      const bodies: [string, string][] = [
        ['POST', '{"name":"a\\ud800"}'],
        ['POST', '{"name":"a\\u0000"}'],
        ['POST', '{"name":"ok","labels":["a\\u0000"]}'],
        ['POST', '{"name":"ok","metadata":{"k\\u0000":1}}'],
        ['POST', '{"name":"ok","metadata":{"k":["\\udc00"]}}'],
      ];
      for (const [method, rawBody] of bodies) {
        const response = await hub.api(method, '/api/v1/devices', { rawBody, headers });
        expect(response.status, rawBody).toBe(400);
        expect(response.body.code).toBe('validation_failed');
      }
      for (const rawBody of [
        '{"name":"reboot","params":{"x":"\\u0000"}}',
        '{"name":"reboot","params":"\\ud800"}',
        '{"name":"reboot","idempotencyKey":"k\\u0000"}',
      ]) {
        const response = await hub.api('POST', `/api/v1/devices/${device.id}/commands`, { rawBody, headers });
        expect(response.status, rawBody).toBe(400);
        expect(response.body.code).toBe('validation_failed');
      }
      const renamed = await hub.api('PATCH', `/api/v1/devices/${device.id}`, {
        rawBody: '{"name":"\\udfff"}',
        headers,
      });
      expect(renamed.status).toBe(400);
    });

    it('a write the database refuses (SQLSTATE 22/23) refuses that one message, never retried, never "unavailable"', async () => {
      const sql = hub.database.client.sql;
      // Checks an operator added: the hub's validation lets these through, the database does not.
      await sql`ALTER TABLE telemetry ADD CONSTRAINT poison_value CHECK (value <> 666)`;
      await sql`ALTER TABLE devices ADD CONSTRAINT poison_state CHECK (NOT reported_state ? 'poison')`;
      try {
        const device = await provisionDevice(hub);
        const client = await mqttDevice(device, 5);
        const results = await Promise.all([
          pubackReason(client, 'devices/me/telemetry', '{"temp":1}'),
          pubackReason(client, 'devices/me/telemetry', '{"temp":666}'),
          pubackReason(client, 'devices/me/telemetry', '{"temp":2}'),
        ]);
        expect(results).toEqual([0, 0x99, 0]);
        expect(await pubackReason(client, 'devices/me/state', '{"poison":true}')).toBe(0x99);
        const http = await devicePost(device, 'telemetry', '{"temp":666}');
        expect(http.status).toBe(400);
        expect(http.body).toMatchObject({ code: 'data_rejected', detail: expect.stringMatching(/23514/) });
        const httpState = await devicePost(device, 'state', '{"poison":1}');
        expect(httpState.body.code).toBe('data_rejected');
        const socket = await wsDevice(device);
        expect(await socket.request({ type: 'telemetry', seq: 1, data: { temp: 666 } })).toMatchObject({
          type: 'error',
          seq: 1,
          code: 'data_rejected',
        });
        expect(await socket.request({ type: 'telemetry', seq: 2, data: { temp: 3 } })).toEqual({ type: 'ack', seq: 2 });
        expect(await countRows(hub, device.id)).toBe(3);
        const ready = await hub.api('GET', '/readyz');
        expect(ready.status).toBe(200);
        expect(await eventually(() => rejectionCodes(device.id))).toContain('data_rejected');
      } finally {
        await sql`ALTER TABLE telemetry DROP CONSTRAINT poison_value`;
        await sql`ALTER TABLE devices DROP CONSTRAINT poison_state`;
      }
    });
  });

  describe('4. a result for a command id that is not a UUID', () => {
    it('MQTT 5: PUBACK 0x87 and the session stays; MQTT 3.1.1: acknowledged and recorded, the session stays', async () => {
      const device = await provisionDevice(hub);
      const v5 = await mqttDevice(device, 5);
      expect(await pubackReason(v5, 'devices/me/commands/not-a-uuid/result', '{"status":"ok"}')).toBe(0x87);
      expect(await pubackReason(v5, 'devices/me/telemetry', '{"temp":1}')).toBe(0);
      expect(v5.connected).toBe(true);
      await v5.endAsync();

      const v4 = await mqttDevice(device, 4);
      await v4.publishAsync(`devices/${device.id}/commands/../result`, '{"status":"ok"}', { qos: 1 });
      await v4.publishAsync('devices/me/telemetry', '{"temp":2}', { qos: 1 });
      expect(v4.connected).toBe(true);
      expect(await countRows(hub, device.id)).toBe(2);
      const refused = await eventually(async () => {
        const codes = await rejectionCodes(device.id);
        return codes.length >= 2 ? codes : undefined;
      });
      expect(refused).toEqual(['unknown_command', 'unknown_command']);
    });
  });

  describe('5. impossible and out-of-window timestamps', () => {
    it.each([
      ['2024-02-30T00:00:00Z', /RFC 3339 time that exists/],
      ['2024-01-01T24:00:00Z', /RFC 3339 time that exists/],
      ['1999-12-31T23:59:59Z', /before 2000-01-01T00:00:00.000Z \(TELEHUB_TELEMETRY_MIN_TIME\)/],
    ])('refuses ts %s with 400 invalid_payload, storing nothing', async (ts, detail) => {
      const device = await provisionDevice(hub);
      const response = await devicePost(device, 'telemetry', JSON.stringify({ temp: 1, ts }));
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'invalid_payload', detail: expect.stringMatching(detail) });
      expect(await countRows(hub, device.id)).toBe(0);
    });

    it('refuses a ts more than TELEHUB_TELEMETRY_MAX_FUTURE_MS ahead, accepts a leap day', async () => {
      const device = await provisionDevice(hub);
      const ahead = await devicePost(device, 'telemetry', JSON.stringify({ temp: 1, ts: Date.now() + 2 * 86_400_000 }));
      expect(ahead.body.detail).toMatch(/TELEHUB_TELEMETRY_MAX_FUTURE_MS/);
      const leap = await devicePost(device, 'telemetry', '{"temp":1,"ts":"2024-02-29T12:00:00Z"}');
      expect(leap.status).toBe(200);
      const [row] = await hub.database.client.sql<{ time: string }[]>`
        SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS time FROM telemetry
        WHERE device_id = ${device.id}`;
      expect(row?.time).toBe('2024-02-29 12:00');
    });
  });

  describe('6. reported state over TELEHUB_STATE_MAX_BYTES (1024 here)', () => {
    it('refuses the report that would make it too large, keeping the state as it was', async () => {
      const device = await provisionDevice(hub);
      const client = await mqttDevice(device, 5);
      const half = 'x'.repeat(600);
      expect(await pubackReason(client, 'devices/me/state', JSON.stringify({ a: half }))).toBe(0);
      expect(await pubackReason(client, 'devices/me/state', JSON.stringify({ b: half }))).toBe(0x99);
      const http = await devicePost(device, 'state', JSON.stringify({ c: half }));
      expect(http.status).toBe(400);
      expect(http.body).toMatchObject({ code: 'state_too_large', detail: expect.stringMatching(/at most 1024/) });
      expect(await reportedState(device.id)).toEqual({ a: half });
      // Removing a key makes room again.
      expect(await pubackReason(client, 'devices/me/state', JSON.stringify({ a: null, b: half }))).toBe(0);
      expect(await reportedState(device.id)).toEqual({ b: half });
      expect(await eventually(() => rejectionCodes(device.id))).toContain('state_too_large');
    });
  });

  describe('3. untrusted strings in the device event log', () => {
    it('a CONNECT with U+0000 in its client id and a bad token does not stop the event log', async () => {
      const { connect: connectTcp } = await import('node:net');
      const socket = connectTcp(hub.hub.mqttPort!, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const raw = new RawMqttClient(socket, 4);
      raw.send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        clientId: 'evil\u0000client',
        username: 'x',
        password: Buffer.from('thd_not-a-real-token'),
      });
      await raw.closed;
      // A malformed CONNECT is closed without a CONNACK [MQTT-1.5.3-2] [MQTT-4.13.1-1].
      expect(raw.packets).toEqual([]);
      // Later events are written: the log did not stop at the hostile one.
      const device = await provisionDevice(hub);
      const client = await mqttDevice(device, 5);
      await client.endAsync();
      const events = await eventually(async () =>
        (await deviceEvents(hub, device.id)).filter((event) => event.type === 'disconnected'),
      );
      expect(events).toHaveLength(1);
    });

    it("an authenticated device's will topic with U+0000 is refused as malformed and does not stop the event log", async () => {
      const { connect: connectTcp } = await import('node:net');
      const device = await provisionDevice(hub);
      for (const protocolVersion of [4, 5] as const) {
        const socket = connectTcp(hub.hub.mqttPort!, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        const raw = new RawMqttClient(socket, protocolVersion);
        raw.send({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion,
          clean: true,
          keepalive: 30,
          clientId: `will-nul-${protocolVersion}`,
          username: device.id,
          password: Buffer.from(device.token),
          will: { topic: 'devices/me/state\u0000', payload: Buffer.from('{"online":false}'), qos: 0, retain: false },
        });
        await raw.closed;
        expect(raw.packets, `MQTT level ${protocolVersion}`).toEqual([]);
      }
      // The device's own later events are written: nothing of the hostile CONNECTs blocks the log.
      const client = await mqttDevice(device, 5);
      await client.endAsync();
      const events = await eventually(async () =>
        (await deviceEvents(hub, device.id)).filter((event) => event.type === 'disconnected'),
      );
      expect(events).toHaveLength(1);
      expect(await reportedState(device.id)).toEqual({});
    });

    it('a client id of 60 KB is stored cut to TELEHUB_EVENT_MAX_STRING_BYTES', async () => {
      const clientId = `huge-${'y'.repeat(60_000)}`;
      const refused = await mqtt
        .connectAsync(hub.mqttUrl, { clientId, username: 'x', password: 'thd_bad', reconnectPeriod: 0 })
        .catch((error: Error) => error);
      expect(refused).toBeInstanceOf(Error);
      const [event] = await eventually(
        () => hub.database.client.sql<{ client_id: string }[]>`
          SELECT detail->>'clientId' AS client_id FROM device_events
          WHERE type = 'auth_failed' AND detail->>'clientId' LIKE 'huge-%'`,
      );
      expect(Buffer.byteLength(event!.client_id)).toBeLessThanOrEqual(256);
      expect(event!.client_id).toMatch(/^huge-y+… \(60005 bytes\)$/);
    });
  });
});
