import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { NO_CONNECT_YET, PacketParserPool, type ParseTarget } from './packet-parser.pool.js';

function target(): ParseTarget & { packets: Packet[]; errors: string[] } {
  const packets: Packet[] = [];
  const errors: string[] = [];
  return {
    heldParser: undefined,
    parserSettings: NO_CONNECT_YET,
    packets,
    errors,
    onPacket: (packet) => packets.push(packet),
    onParseError: (error) => errors.push(error.message),
  };
}

function connect(protocolVersion: 4 | 5): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion,
    clientId: `client-${protocolVersion}`,
    clean: true,
    keepalive: 30,
    username: 'device',
    password: Buffer.from('secret-token'),
  });
}

function publish(protocolVersion: 4 | 5, topic: string): Buffer {
  const properties = protocolVersion === 5 ? { properties: { contentType: 'application/json' } } : {};
  return generate(
    { cmd: 'publish', topic, payload: '{"t":1}', qos: 1, messageId: 7, dup: false, retain: false, ...properties },
    { protocolVersion },
  );
}

describe('PacketParserPool', () => {
  it('serves connections whose packets arrive split and interleaved, each with its own protocol version', () => {
    const pool = new PacketParserPool();
    const v4 = target();
    const v5 = target();
    const bytes4 = Buffer.concat([connect(4), publish(4, 'devices/a/telemetry')]);
    const bytes5 = Buffer.concat([connect(5), publish(5, 'devices/b/telemetry')]);
    // Every split point of one connection's bytes, with the other connection's whole packets in between.
    pool.parse(bytes4.subarray(0, 5), v4);
    expect(v4.heldParser).toBeDefined();
    pool.parse(bytes5.subarray(0, 3), v5);
    pool.parse(bytes4.subarray(5, bytes4.length - 4), v4);
    pool.parse(bytes5.subarray(3), v5);
    pool.parse(bytes4.subarray(bytes4.length - 4), v4);
    expect(v4.packets.map((packet) => packet.cmd)).toEqual(['connect', 'publish']);
    expect(v5.packets.map((packet) => packet.cmd)).toEqual(['connect', 'publish']);
    expect((v5.packets[1] as { properties?: object }).properties).toEqual({ contentType: 'application/json' });
    expect((v4.packets[1] as { properties?: object }).properties).toBeUndefined();
    expect([v4.heldParser, v5.heldParser]).toEqual([undefined, undefined]);
    expect([v4.errors, v5.errors]).toEqual([[], []]);
  });

  it('keeps a parser only while part of a packet is pending, and the CONNECT nowhere', () => {
    const pool = new PacketParserPool();
    const connection = target();
    pool.parse(connect(5), connection);
    expect(connection.heldParser).toBeUndefined();
    expect(connection.parserSettings).toEqual({ protocolVersion: 5, bridgeMode: false });
    const spare = pool.spareParser!;
    expect(spare.target).toBeUndefined();
    expect((spare.parser as unknown as { settings: object }).settings).toBe(NO_CONNECT_YET);
    // A later packet of the connection in two pieces: the spare parser is held in between.
    const packet = publish(5, 'devices/a/telemetry');
    pool.parse(packet.subarray(0, 2), connection);
    expect(connection.heldParser).toBe(spare);
    expect(pool.spareParser).toBeUndefined();
    pool.parse(packet.subarray(2), connection);
    expect(connection.heldParser).toBeUndefined();
    expect(pool.spareParser).toBe(spare);
    expect(connection.packets.map((received) => received.cmd)).toEqual(['connect', 'publish']);
  });

  it('does not reuse a parser that reported an error', () => {
    const pool = new PacketParserPool();
    const broken = target();
    pool.parse(Buffer.from([0x10, 0x02, 0x00, 0x00]), broken);
    expect(broken.errors.length).toBeGreaterThan(0);
    expect(broken.heldParser).toBeUndefined();
    expect(pool.spareParser).toBeUndefined();
    const next = target();
    pool.parse(connect(4), next);
    expect(next.packets.map((packet) => packet.cmd)).toEqual(['connect']);
    expect(next.errors).toEqual([]);
  });
});
