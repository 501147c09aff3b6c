import type { Duplex } from 'node:stream';
import { generate, type Packet } from 'mqtt-packet';
import { MqttSessionError } from './mqtt-session.error.js';
import type { ProtocolVersion } from './mqtt-session.types.js';

/** Properties a sender may leave out of a packet they would make too large for the receiver (MQTT 5 section 3). */
const OPTIONAL_PROPERTIES = ['reasonString', 'userProperties'] as const;

/** Fixed headers of the acknowledgements that plainAck writes by hand (MQTT 3.1.1 section 2.2, MQTT 5 section 2.1.2). */
const ACK_HEADERS: Partial<Record<Packet['cmd'], number>> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };

/**
 * A successful acknowledgement without properties is four fixed bytes in both versions: the header, remaining
 * length 2 and the packet id; MQTT 5 leaves out the Reason Code 0x00 and the empty properties [MQTT-3.4.2-1]
 * (3.5.2, 3.6.2, 3.7.2 likewise), as mqtt-packet's generate() does. Written by hand because one goes out for every
 * message at full load, and generate() costs far more than four bytes. Undefined for any other packet (and
 * for an MQTT 5 ack whose reason code is not given).
 */
function plainAck(packet: Packet, protocolVersion: ProtocolVersion): Buffer | undefined {
  const header = ACK_HEADERS[packet.cmd];
  if (header === undefined) return undefined;
  const { messageId, reasonCode, properties } = packet as {
    messageId?: number;
    reasonCode?: number;
    properties?: object;
  };
  if (properties !== undefined) return undefined;
  // MQTT 5 without a reason code: mqtt-packet writes 0x00 and empty properties out; so do we, through it.
  if (protocolVersion === 5 ? reasonCode !== 0 : reasonCode !== undefined && reasonCode !== 0) return undefined;
  if (messageId === undefined || !Number.isInteger(messageId) || messageId < 1 || messageId > 0xffff) return undefined;
  const bytes = Buffer.allocUnsafe(4);
  bytes[0] = header;
  bytes[1] = 2;
  bytes[2] = messageId >> 8;
  bytes[3] = messageId & 0xff;
  return bytes;
}

/**
 * Encodes packets and writes them to the stream. The first write in a tick corks the stream and the uncork is
 * deferred to the next tick, so acknowledgements released together (one batch commit settles many onPublish
 * promises in the same tick) leave in one write, which net.Socket sends as one segment.
 */
export class PacketWriter {
  private corked = false;
  private protocolVersion: ProtocolVersion = 4;
  /** The MQTT 5 client's Maximum Packet Size, the whole packet counted (MQTT 5 section 3.1.2.11.4). */
  private clientMaximumPacketSize: number | undefined;

  constructor(private readonly stream: Duplex) {}

  setProtocol(protocolVersion: ProtocolVersion, clientMaximumPacketSize?: number): void {
    this.protocolVersion = protocolVersion;
    this.clientMaximumPacketSize = protocolVersion === 5 ? clientMaximumPacketSize : undefined;
  }

  /** Throws when mqtt-packet rejects the packet (for example an invalid property value). */
  encode(packet: Packet): Buffer {
    return plainAck(packet, this.protocolVersion) ?? generate(packet, { protocolVersion: this.protocolVersion });
  }

  /**
   * Writes a packet of the session's own (acks, CONNACK, DISCONNECT...). Nothing larger than the client's
   * Maximum Packet Size is sent [MQTT-3.1.2-24]: a Reason String and User Properties that would make it too
   * large are left out ([MQTT-3.2.2-19] [MQTT-3.2.2-20], and the same rule for every acknowledgement, e.g.
   * [MQTT-3.4.2-2] [MQTT-3.4.2-3]); a packet that is too large even without them throws MqttSessionError
   * ERR_PACKET_TOO_LARGE_FOR_CLIENT. Returns false when the stream is no longer writable, so nothing was sent.
   */
  write(packet: Packet): boolean {
    if (!this.stream.writable) return false;
    return this.writeEncoded(this.fit(packet));
  }

  /** Returns false when the stream is no longer writable, so nothing was sent. */
  writeEncoded(bytes: Buffer): boolean {
    if (!this.stream.writable) return false;
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(this.uncork);
    }
    this.stream.write(bytes);
    return true;
  }

  private fit(packet: Packet): Buffer {
    const limit = this.clientMaximumPacketSize;
    const bytes = this.encode(packet);
    if (limit === undefined || bytes.length <= limit) return bytes;
    const properties = (packet as { properties?: Record<string, unknown> }).properties;
    if (properties && OPTIONAL_PROPERTIES.some((name) => name in properties)) {
      const essential = Object.fromEntries(
        Object.entries(properties).filter(([name]) => !(OPTIONAL_PROPERTIES as readonly string[]).includes(name)),
      );
      const { properties: _, ...rest } = packet as Packet & { properties?: unknown };
      const trimmed = this.encode(
        (Object.keys(essential).length > 0 ? { ...rest, properties: essential } : rest) as Packet,
      );
      if (trimmed.length <= limit) return trimmed;
    }
    throw new MqttSessionError(
      'ERR_PACKET_TOO_LARGE_FOR_CLIENT',
      `a ${packet.cmd} of ${bytes.length} bytes exceeds the client's Maximum Packet Size of ${limit}`,
    );
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };
}
