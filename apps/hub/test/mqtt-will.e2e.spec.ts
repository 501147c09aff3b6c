import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRows, deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const clients: MqttClient[] = [];

function options(device: ProvisionedDevice, protocolVersion: 4 | 5, will: IClientOptions['will']): IClientOptions {
  return {
    protocolVersion,
    username: device.id,
    password: device.token,
    will,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  };
}

/** The CONNACK code of a refused CONNECT, as MQTT.js reports it (3.1.1 return code, MQTT 5 reason code). */
function refusedWith(url: string, clientOptions: IClientOptions): Promise<number | undefined> {
  const client = mqtt.connect(url, clientOptions);
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => reject(new Error('the CONNECT was accepted')));
    client.once('error', (error) => resolve((error as { code?: number }).code));
  });
}

describe('MQTT wills', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  async function rejections(deviceId: string, count: number) {
    const events = () => deviceEvents(hub, deviceId).then((all) => all.filter((e) => e.type === 'message_rejected'));
    await eventually(async () => (await events()).length >= count);
    return events();
  }

  for (const [protocolVersion, notAuthorized, payloadInvalid] of [
    [4, 5, 5],
    [5, 0x87, 0x99],
  ] as const) {
    const name = protocolVersion === 4 ? '3.1.1' : '5';
    const hex = (code: number) => (protocolVersion === 4 ? String(code) : `0x${code.toString(16)}`);

    it(`MQTT ${name}: refuses a will on another topic than the device's state topic with CONNACK ${hex(notAuthorized)}, and keeps the live session`, async () => {
      const device = await provisionDevice(hub);
      const other = await provisionDevice(hub);
      const live = await mqtt.connectAsync(hub.mqttUrl, options(device, 5, undefined));
      clients.push(live);
      const wills = ['devices/me/telemetry', `devices/${other.id}/state`, 'status/offline'];
      for (const topic of wills) {
        const will = { topic, payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: false };
        expect(await refusedWith(hub.mqttUrl, options(device, protocolVersion, will))).toBe(notAuthorized);
      }
      // A refused CONNECT does not take over the device's session.
      await live.publishAsync('devices/me/telemetry', '{"temp":1}', { qos: 1 });
      expect(live.connected).toBe(true);
      expect(await countRows(hub, device.id)).toBe(1);

      const recorded = await rejections(device.id, wills.length);
      expect(recorded.map((event) => [event.detail.code, event.detail.kind])).toEqual(
        wills.map(() => ['not_authorized', 'will']),
      );
      expect(recorded.map((event) => event.detail.message)).toEqual(
        wills.map((topic) => expect.stringContaining(`will on ${topic} refused`)),
      );
    });

    it(`MQTT ${name}: refuses a will on the state topic whose payload is not a JSON object with CONNACK ${hex(payloadInvalid)}`, async () => {
      const device = await provisionDevice(hub);
      const payloads = ['offline', '["online", false]'];
      for (const payload of payloads) {
        const will = { topic: 'devices/me/state', payload: Buffer.from(payload), qos: 1 as const, retain: false };
        expect(await refusedWith(hub.mqttUrl, options(device, protocolVersion, will))).toBe(payloadInvalid);
      }
      const recorded = await rejections(device.id, payloads.length);
      expect(recorded.map((event) => [event.detail.code, event.detail.kind])).toEqual([
        ['invalid_json', 'will'],
        ['invalid_payload', 'will'],
      ]);
    });

    it(`MQTT ${name}: applies a will on the state topic when the connection drops without DISCONNECT`, async () => {
      const device = await provisionDevice(hub);
      const topic = protocolVersion === 4 ? `devices/${device.id}/state` : 'devices/me/state';
      const will = { topic, payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: false };
      const client = await mqtt.connectAsync(hub.mqttUrl, options(device, protocolVersion, will));
      clients.push(client);
      await client.publishAsync('devices/me/state', '{"online":true,"fw":"1.0"}', { qos: 1 });
      client.stream.destroy();
      const state = await eventually(async () => {
        const { body } = await hub.api('GET', `/api/v1/devices/${device.id}`);
        return body.state.online === false ? body.state : undefined;
      });
      expect(state).toEqual({ online: false, fw: '1.0' });
    });
  }
});
