import fc from 'fast-check';
import { generate, type IPubackPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttSessionError } from './mqtt-session.error.js';
import { PacketWriter } from './packet-writer.js';
import { createDuplexPair } from './testing/duplex-pair.js';
import { connectSession, startSession } from './testing/session-harness.js';

const longReason = 'metric "temperature" must be a number or a boolean, got the string "warm"';

describe('PacketWriter and the client Maximum Packet Size [MQTT-3.1.2-24]', () => {
  it('leaves out a Reason String that would make a PUBACK too large for the client [MQTT-3.4.2-2]', async () => {
    const h = await connectSession({
      protocolVersion: 5,
      connect: { properties: { maximumPacketSize: 32 } },
      hooks: { onPublish: async () => ({ kind: 'invalid_payload', message: longReason }) },
    });
    h.client.send({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, messageId: 7, dup: false, retain: false });
    const puback = (await h.client.next()) as IPubackPacket;
    expect(puback).toMatchObject({ cmd: 'puback', messageId: 7, reasonCode: 0x99 });
    expect(puback.properties?.reasonString).toBeUndefined();
    expect(h.client.chunks.at(-1)!.length).toBeLessThanOrEqual(32);
    expect(h.session.isConnected).toBe(true);
  });

  it('keeps the Reason String when it fits', async () => {
    const h = await connectSession({
      protocolVersion: 5,
      connect: { properties: { maximumPacketSize: 256 } },
      hooks: { onPublish: async () => ({ kind: 'invalid_payload', message: longReason }) },
    });
    h.client.send({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, messageId: 7, dup: false, retain: false });
    expect(((await h.client.next()) as IPubackPacket).properties?.reasonString).toBe(longReason);
  });

  it('sends no CONNACK larger than the client accepts: it closes instead', async () => {
    const h = startSession({ protocolVersion: 5 });
    h.client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'c',
      clean: true,
      keepalive: 0,
      properties: { maximumPacketSize: 8 },
    });
    expect(await h.closed).toBe('packet_too_large');
    await h.client.closed;
    expect(h.client.chunks).toEqual([]);
  });

  it('write() throws ERR_PACKET_TOO_LARGE_FOR_CLIENT for a packet that cannot be trimmed to fit', () => {
    const [stream] = createDuplexPair();
    const writer = new PacketWriter(stream);
    writer.setProtocol(5, 3);
    expect(() => writer.write({ cmd: 'suback', messageId: 1, granted: [0, 1] })).toThrow(MqttSessionError);
    writer.setProtocol(5, 4);
    expect(writer.write({ cmd: 'pingresp' })).toBe(true);
  });
});

describe('PacketWriter.encode: successful acknowledgements written by hand', () => {
  it('gives the same bytes as mqtt-packet for every ack, packet id, version and reason code', () => {
    const writer = new PacketWriter(createDuplexPair()[0]);
    fc.assert(
      fc.property(
        fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'),
        fc.integer({ min: 1, max: 0xffff }),
        fc.constantFrom(4, 5),
        fc.constantFrom(undefined, 0, 0x10, 0x80, 0x92),
        (cmd, messageId, protocolVersion, reasonCode) => {
          writer.setProtocol(protocolVersion as 4 | 5);
          // 3.1.1 has no reason codes: only the plain acks exist there.
          const code = protocolVersion === 4 ? undefined : reasonCode;
          const packet = { cmd, messageId, ...(code === undefined ? {} : { reasonCode: code }) } as Packet;
          expect(writer.encode(packet)).toEqual(generate(packet, { protocolVersion }));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('leaves acks with properties to mqtt-packet', () => {
    const writer = new PacketWriter(createDuplexPair()[0]);
    writer.setProtocol(5);
    const packet = { cmd: 'puback', messageId: 9, reasonCode: 0, properties: { reasonString: 'ok' } } as Packet;
    expect(writer.encode(packet)).toEqual(generate(packet, { protocolVersion: 5 }));
    expect(writer.encode(packet).length).toBeGreaterThan(4);
  });
});
