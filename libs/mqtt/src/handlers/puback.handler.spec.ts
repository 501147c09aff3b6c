import type { IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttSessionError } from '../mqtt-session.error.js';
import { connectSession, settle, startSession } from '../testing/session-harness.js';

describe('outbound publish and PUBACK', () => {
  it('QoS 1: assigns packet ids and reports the PUBACK with its tag', async () => {
    const h = await connectSession({ protocolVersion: 4 });
    const first = h.session.publish({ topic: 'devices/1/commands', payload: '{"op":"reboot"}', qos: 1 }, 'cmd-1');
    const second = h.session.publish({ topic: 'devices/1/commands', payload: '{"op":"ping"}', qos: 1 }, 'cmd-2');
    expect([first, second]).toEqual([1, 2]);
    const received = (await h.client.next()) as IPublishPacket;
    expect(received).toMatchObject({ cmd: 'publish', qos: 1, messageId: 1, topic: 'devices/1/commands' });
    expect(received.payload.toString()).toBe('{"op":"reboot"}');
    h.client.send({ cmd: 'puback', messageId: 2 });
    h.client.send({ cmd: 'puback', messageId: 1 });
    h.client.send({ cmd: 'puback', messageId: 1 }); // duplicate: ignored
    await settle();
    await settle();
    expect(h.outboundAcks).toEqual([
      { messageId: 2, tag: 'cmd-2', reasonCode: 0 },
      { messageId: 1, tag: 'cmd-1', reasonCode: 0 },
    ]);
  });

  it('QoS 0 returns no packet id', async () => {
    const h = await connectSession();
    expect(h.session.publish({ topic: 't', payload: Buffer.from('x'), qos: 0 })).toBeUndefined();
    expect(await h.client.next()).toMatchObject({ cmd: 'publish', qos: 0 });
  });

  it('MQTT 5: sends request/response properties and passes PUBACK reason codes', async () => {
    const h = await connectSession({ protocolVersion: 5 });
    const id = h.session.publish(
      {
        topic: 'devices/1/commands',
        payload: '{}',
        qos: 1,
        properties: {
          responseTopic: 'devices/1/responses',
          correlationData: Buffer.from('c-42'),
          contentType: 'application/json',
          payloadFormatIndicator: true,
        },
      },
      { commandId: 42 },
    );
    expect(await h.client.next()).toMatchObject({
      cmd: 'publish',
      properties: {
        responseTopic: 'devices/1/responses',
        correlationData: Buffer.from('c-42'),
        contentType: 'application/json',
        payloadFormatIndicator: true,
      },
    });
    h.client.send({ cmd: 'puback', messageId: id!, reasonCode: 0x10 });
    await settle();
    await settle();
    expect(h.outboundAcks).toEqual([{ messageId: id, tag: { commandId: 42 }, reasonCode: 0x10 }]);
  });

  it('3.1.1: properties are not sent', async () => {
    const h = await connectSession({ protocolVersion: 4 });
    h.session.publish({ topic: 't', payload: 'x', qos: 0, properties: { responseTopic: 'r' } });
    expect(await h.client.next()).not.toHaveProperty('properties');
  });

  it('refuses to publish before CONNACK, above Receive Maximum, or above the client packet size', async () => {
    const early = startSession();
    expect(() => early.session.publish({ topic: 't', payload: 'x', qos: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_NOT_CONNECTED' }),
    );
    const h = await connectSession({
      protocolVersion: 5,
      connect: { properties: { receiveMaximum: 1, maximumPacketSize: 64 } },
    });
    h.session.publish({ topic: 't', payload: 'x', qos: 1 });
    expect(() => h.session.publish({ topic: 't', payload: 'x', qos: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_RECEIVE_MAXIMUM_REACHED' }),
    );
    const error = (() => {
      try {
        h.session.publish({ topic: 't', payload: Buffer.alloc(100), qos: 0 });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(MqttSessionError);
    expect((error as MqttSessionError).code).toBe('ERR_PACKET_TOO_LARGE_FOR_CLIENT');
  });
});
