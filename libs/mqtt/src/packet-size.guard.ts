type GuardState = 'header' | 'length' | 'body' | 'unframed' | 'refused';

/**
 * Follows MQTT fixed headers across chunks so that an oversize packet is refused as soon as its Remaining Length
 * is known, before the parser starts buffering its body. Bodies are skipped, never copied, so the cost is per
 * packet, not per byte. Malformed lengths are left to the parser, which reports them as malformed packets.
 */
export class PacketSizeGuard {
  private state: GuardState = 'header';
  private remainingLength = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(private readonly maxPacketSize: number) {}

  /** Returns false when `chunk` carries the start of a packet larger than the limit, and for every chunk after. */
  accept(chunk: Buffer): boolean {
    if (this.state === 'refused') return false;
    let pos = 0;
    while (pos < chunk.length && this.state !== 'unframed') {
      if (this.state === 'body') {
        const skip = Math.min(this.bodyLeft, chunk.length - pos);
        pos += skip;
        this.bodyLeft -= skip;
        if (this.bodyLeft === 0) this.state = 'header';
      } else if (this.state === 'header') {
        pos += 1;
        this.state = 'length';
        this.remainingLength = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else {
        const byte = chunk[pos++]!;
        this.remainingLength += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 0x80;
        this.lengthBytes += 1;
        if (byte & 0x80) {
          // The Remaining Length is at most four bytes [MQTT-1.5.5]; a fifth continuation byte is malformed.
          if (this.lengthBytes === 4) this.state = 'unframed';
          continue;
        }
        // Maximum Packet Size counts the whole packet, fixed header included (MQTT 5 section 3.1.2.11.4).
        if (1 + this.lengthBytes + this.remainingLength > this.maxPacketSize) {
          this.state = 'refused';
          return false;
        }
        this.bodyLeft = this.remainingLength;
        this.state = this.bodyLeft === 0 ? 'header' : 'body';
      }
    }
    return true;
  }
}
