import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from './packet-size.guard.js';

const publish = (payloadBytes: number): Buffer =>
  generate({
    cmd: 'publish',
    topic: 't',
    payload: Buffer.alloc(payloadBytes),
    qos: 0,
    dup: false,
    retain: false,
  });

describe('PacketSizeGuard', () => {
  it('accepts packets up to the limit, fixed header included', () => {
    const packet = publish(100); // 1 header byte + 1 length byte + 3 topic bytes + 100
    expect(packet.length).toBe(105);
    expect(new PacketSizeGuard(105).accept(packet)).toBe(true);
    expect(new PacketSizeGuard(104).accept(packet)).toBe(false);
  });

  it('refuses an oversize packet from its fixed header alone, before the body arrives', () => {
    const guard = new PacketSizeGuard(1000);
    // PUBLISH with Remaining Length 2,097,152 (0x80 0x80 0x80 0x01), no body sent yet.
    expect(guard.accept(Buffer.from([0x30, 0x80, 0x80]))).toBe(true);
    expect(guard.accept(Buffer.from([0x80, 0x01]))).toBe(false);
  });

  it('follows packet boundaries across arbitrary splits', () => {
    const stream = Buffer.concat([publish(10), publish(300), publish(5), publish(2000)]);
    const guard = new PacketSizeGuard(400);
    const results: boolean[] = [];
    for (let offset = 0; offset < stream.length; offset += 7) {
      results.push(guard.accept(stream.subarray(offset, offset + 7)));
    }
    // Every chunk before the one completing the 2000-byte packet's length passes; that one and all later fail.
    const firstRefused = results.indexOf(false);
    const bigPacketStart = publish(10).length + publish(300).length + publish(5).length;
    expect(firstRefused).toBe(Math.floor((bigPacketStart + 2) / 7));
    expect(results.slice(firstRefused).every((ok) => !ok)).toBe(true);
  });

  it('accepts packets with an empty body (PINGREQ) back to back', () => {
    const guard = new PacketSizeGuard(2);
    expect(guard.accept(Buffer.from([0xc0, 0x00, 0xc0, 0x00, 0xe0, 0x00]))).toBe(true);
    expect(guard.accept(Buffer.from([0x30, 0x01]))).toBe(false);
  });

  it('leaves a malformed length (five bytes) to the parser', () => {
    const guard = new PacketSizeGuard(10);
    expect(guard.accept(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toBe(true);
  });
});
