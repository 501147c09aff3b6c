import { type IClientOptions, type IPublishPacket, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttSession } from './mqtt-session.js';
import type { InboundMessage, MqttSessionHooks, PublishOutcome } from './mqtt-session.types.js';
import { createDuplexPair } from './testing/duplex-pair.js';
import { TEST_OPTIONS } from './testing/session-harness.js';

/** The real MQTT.js client talking to a session over an in-memory stream. */
function connectMqttJs(options: IClientOptions, hooks: Partial<MqttSessionHooks> = {}) {
  const [serverStream, clientStream] = createDuplexPair();
  const published: InboundMessage[] = [];
  const closes: string[] = [];
  const outboundAcks: Array<{ tag: unknown; reasonCode: number }> = [];
  const session = new MqttSession(serverStream, TEST_OPTIONS, {
    authenticate: async ({ username }) => ({ ok: true, deviceId: username ?? 'anonymous' }),
    onPublish: async (_session, message) => {
      published.push(message);
      return { kind: 'accepted' };
    },
    authorizeSubscribe: () => ({ granted: true, qos: 1 }),
    onOutboundAck: (_session, _id, tag, reasonCode) => outboundAcks.push({ tag, reasonCode }),
    onClose: (_session, reason) => closes.push(reason),
    ...hooks,
  });
  const client = new MqttClient(() => clientStream, {
    clientId: 'device-7',
    username: 'device-7',
    password: 'token',
    reconnectPeriod: 0,
    keepalive: 30,
    ...options,
  });
  clients.push(client);
  return { session, client, published, closes, outboundAcks };
}

const clients: MqttClient[] = [];

const connected = (client: MqttClient) =>
  new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });

describe.each([4, 5] as const)('MQTT.js client, protocol %s', (protocolVersion) => {
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  });

  it('connects and publishes at QoS 0, 1 and 2; each is stored exactly once', async () => {
    const h = connectMqttJs({ protocolVersion });
    await connected(h.client);
    expect(h.session.deviceId).toBe('device-7');
    await h.client.publishAsync('devices/7/telemetry', '{"t":1}', { qos: 0 });
    await h.client.publishAsync('devices/7/telemetry', '{"t":2}', { qos: 1 });
    await h.client.publishAsync('devices/7/telemetry', '{"t":3}', { qos: 2 });
    expect(h.published.map((message) => [message.qos, message.payload.toString()])).toEqual([
      [0, '{"t":1}'],
      [1, '{"t":2}'],
      [2, '{"t":3}'],
    ]);
  });

  it('sees the refusal code when authentication fails', async () => {
    const h = connectMqttJs(
      { protocolVersion },
      { authenticate: async () => ({ ok: false, reason: 'bad_credentials' }) },
    );
    const error = await connected(h.client).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: protocolVersion === 5 ? 0x86 : 5 });
  });

  it('receives a command after subscribing and acknowledges it', async () => {
    const h = connectMqttJs(
      { protocolVersion },
      {
        onSubscribed: (session, filter) => {
          session.publish(
            {
              topic: filter,
              payload: '{"op":"reboot"}',
              qos: 1,
              properties: { responseTopic: 'devices/7/responses', correlationData: Buffer.from('42') },
            },
            'command-42',
          );
        },
      },
    );
    await connected(h.client);
    const message = new Promise<IPublishPacket>((resolve) =>
      h.client.once('message', (_t, _p, packet) => resolve(packet)),
    );
    const grants = await h.client.subscribeAsync('devices/7/commands', { qos: 1 });
    expect(grants).toMatchObject([{ topic: 'devices/7/commands', qos: 1 }]);
    const packet = await message;
    expect(packet.payload.toString()).toBe('{"op":"reboot"}');
    if (protocolVersion === 5) {
      expect(packet.properties).toMatchObject({
        responseTopic: 'devices/7/responses',
        correlationData: Buffer.from('42'),
      });
    } else {
      expect(packet.properties).toBeUndefined();
    }
    await expect.poll(() => h.outboundAcks).toEqual([{ tag: 'command-42', reasonCode: 0 }]);
  });

  it('gets the negative ack that matches its protocol for an invalid payload', async () => {
    const invalid: PublishOutcome = { kind: 'invalid_payload', message: 'not JSON' };
    const h = connectMqttJs({ protocolVersion }, { onPublish: async () => invalid });
    await connected(h.client);
    const result = await h.client.publishAsync('devices/7/telemetry', 'oops', { qos: 1 }).catch((e: unknown) => e);
    if (protocolVersion === 5) expect(result).toMatchObject({ code: 0x99 });
    else expect(result).toMatchObject({ cmd: 'publish', qos: 1 }); // acknowledged normally
  });

  it('is told why it was taken over (MQTT 5) and the session reports taken_over', async () => {
    const h = connectMqttJs({ protocolVersion });
    await connected(h.client);
    const disconnect = new Promise((resolve) => h.client.once('disconnect', resolve));
    const closed = new Promise<void>((resolve) => h.client.once('close', () => resolve()));
    h.session.close('taken_over');
    await closed;
    if (protocolVersion === 5) expect(await disconnect).toMatchObject({ reasonCode: 0x8e });
    await expect.poll(() => h.closes).toEqual(['taken_over']);
  });

  it('ends cleanly with DISCONNECT', async () => {
    const h = connectMqttJs({ protocolVersion });
    await connected(h.client);
    await h.client.endAsync();
    await expect.poll(() => h.closes).toEqual(['client_disconnect']);
  });
});
