import assert from 'node:assert/strict';
import { parser as createParser, type Packet } from 'mqtt-packet';
import { type CloseReason, disconnectReasonCode } from '../close-reason.js';

/** The packets a server sends; a client-to-server packet in its output is a bug. */
const SERVER_PACKETS = new Set([
  'connack',
  'puback',
  'pubrec',
  'pubcomp',
  'suback',
  'unsuback',
  'pingresp',
  'disconnect',
  'publish',
]);

/** Every byte the server wrote, as packets; fails on bytes that are not well-formed MQTT. */
export function serverPackets(output: Buffer, protocolVersion: 4 | 5): Packet[] {
  const packets: Packet[] = [];
  const parser = createParser({ protocolVersion });
  let error: Error | undefined;
  parser.on('packet', (packet: Packet) => packets.push(packet));
  parser.on('error', (e: Error) => {
    error ??= e;
  });
  const left = output.length === 0 ? 0 : parser.parse(output);
  if (error) throw new Error(`the server wrote a malformed packet: ${error.message}`);
  if (left !== 0) throw new Error(`the server wrote ${left} bytes of an incomplete packet`);
  return packets;
}

/** The size of each packet in `bytes` (whole packets), fixed header included: type byte, Remaining Length [MQTT-2.2.3]. */
function packetSizes(bytes: Buffer): number[] {
  const sizes: number[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let length = 0;
    let multiplier = 1;
    let position = offset + 1;
    let byte: number;
    do {
      byte = bytes[position++]!;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 0x80;
    } while (byte & 0x80);
    sizes.push(position - offset + length);
    offset = position + length;
  }
  return sizes;
}

/** The Maximum Packet Size an MQTT 5 client asked for in its CONNECT (the first packet of its input). */
export function clientMaximumPacketSize(input: Buffer): number | undefined {
  let limit: number | undefined;
  const parser = createParser({ protocolVersion: 5 });
  parser.once('packet', (packet: Packet) => {
    if (packet.cmd === 'connect') limit = packet.properties?.maximumPacketSize;
  });
  parser.on('error', () => undefined);
  parser.parse(input);
  return limit;
}

/** What the server wrote: well-formed packets of its own kinds, CONNACK first, nothing after DISCONNECT. */
export function checkServerOutput(output: Buffer, protocolVersion: 4 | 5, reason: CloseReason, limit?: number): void {
  const packets = serverPackets(output, protocolVersion);
  if (packets.length === 0) return;
  // Nothing larger than the client's Maximum Packet Size [MQTT-3.1.2-24].
  if (limit !== undefined) {
    for (const [index, size] of packetSizes(output).entries()) {
      const cmd = packets[index]!.cmd;
      assert.ok(size <= limit, `the server wrote a ${size}-byte ${cmd} to a client whose limit is ${limit}`);
    }
  }
  for (const packet of packets) assert.ok(SERVER_PACKETS.has(packet.cmd), `the server wrote ${packet.cmd}`);
  assert.equal(packets[0]!.cmd, 'connack', 'CONNACK comes first');
  assert.equal(packets.filter((packet) => packet.cmd === 'connack').length, 1, 'one CONNACK');
  const connack = packets[0] as Packet & { returnCode?: number; reasonCode?: number };
  const acceptedConnack = (connack.returnCode ?? connack.reasonCode ?? 0) === 0;
  if (!acceptedConnack) assert.equal(packets.length, 1, 'nothing follows a refusing CONNACK');
  const disconnect = packets.findIndex((packet) => packet.cmd === 'disconnect');
  if (disconnect >= 0) {
    // A DISCONNECT only in MQTT 5, after an accepting CONNACK [MQTT-3.14.0-1], last, and with the close's code.
    assert.equal(protocolVersion, 5, 'DISCONNECT to a 3.1.1 client');
    assert.ok(acceptedConnack, 'DISCONNECT without an accepting CONNACK');
    assert.equal(disconnect, packets.length - 1, 'packets after DISCONNECT');
    const code = (packets[disconnect] as Packet & { reasonCode?: number }).reasonCode;
    assert.equal(code, disconnectReasonCode(reason), 'the DISCONNECT code matches the close reason');
  }
}
