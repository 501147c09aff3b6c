import type { Duplex } from 'node:stream';
import { generate, type Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './mqtt-session.types.js';

interface EncodeOptions {
  protocolVersion: ProtocolVersion;
  /** The client's MQTT 5 Maximum Packet Size: mqtt-packet drops reason strings that would exceed it. */
  maximumPacketSize?: number;
}

/**
 * Encodes packets and writes them to the stream. The first write in a tick corks the stream and the uncork is
 * deferred to the next tick, so acknowledgements released together (one batch commit settles many onPublish
 * promises in the same tick) leave in one write, which net.Socket sends as one segment.
 */
export class PacketWriter {
  private corked = false;
  private encodeOptions: EncodeOptions = { protocolVersion: 4 };

  constructor(private readonly stream: Duplex) {}

  setProtocol(protocolVersion: ProtocolVersion, clientMaximumPacketSize?: number): void {
    this.encodeOptions =
      clientMaximumPacketSize === undefined
        ? { protocolVersion }
        : { protocolVersion, maximumPacketSize: clientMaximumPacketSize };
  }

  /** Throws when mqtt-packet rejects the packet (for example an invalid property value). */
  encode(packet: Packet): Buffer {
    return generate(packet, this.encodeOptions);
  }

  write(packet: Packet): boolean {
    if (!this.stream.writable) return false;
    return this.writeEncoded(this.encode(packet));
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

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };
}
