import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROXY_V1_MAX_BYTES, PROXY_V2_MAX_BYTES, parseProxyHeader } from './proxy-header.js';

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function v2(command: number, family: number, block: number[]): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(block.length);
  return Buffer.from([...V2_SIGNATURE, 0x20 | command, (family << 4) | 1, ...length, ...block]);
}

const IPV4_BLOCK = [203, 0, 113, 7, 10, 0, 0, 1, 0xc3, 0x50, 0x07, 0x5b]; // 203.0.113.7:50000 → 10.0.0.1:1883

describe('PROXY protocol header', () => {
  it('reads version 1 (spec §2.1), and what follows it is the connection’s own', () => {
    const data = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 50000 1883\r\n\x10\x0c');
    expect(parseProxyHeader(data)).toEqual({
      kind: 'header',
      length: data.length - 2,
      source: { address: '203.0.113.7', port: 50000 },
    });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 443 8080\r\n'))).toMatchObject({
      source: { address: '2001:db8::7', port: 443 },
    });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN whatever\r\n'))).toEqual({ kind: 'header', length: 24 });
  });

  it('reads version 2 (spec §2.2): IPv4, IPv6, LOCAL, and TLVs after the addresses', () => {
    expect(parseProxyHeader(v2(1, 1, IPV4_BLOCK))).toEqual({
      kind: 'header',
      length: 28,
      source: { address: '203.0.113.7', port: 50000 },
    });
    const ipv6 = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 7, ...Array(16).fill(0), 0x01, 0xbb, 0x1f, 0x90];
    expect(parseProxyHeader(v2(1, 2, ipv6))).toMatchObject({ source: { address: '2001:db8::7', port: 443 } });
    const mapped = [...Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1, ...Array(16).fill(0), 0, 80, 0, 80];
    expect(parseProxyHeader(v2(1, 2, mapped))).toMatchObject({ source: { address: '::ffff:192.0.2.1' } });
    // A health check from the proxy itself: no client address.
    expect(parseProxyHeader(v2(0, 0, []))).toEqual({ kind: 'header', length: 16 });
    const withTlv = v2(1, 1, [...IPV4_BLOCK, 0x05, 0x00, 0x02, 0xab, 0xcd]);
    expect(parseProxyHeader(withTlv)).toMatchObject({ length: 33, source: { address: '203.0.113.7' } });
  });

  it('waits for the rest of a header that has only begun', () => {
    const v1 = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 50000 1883\r\n');
    const whole = v2(1, 1, IPV4_BLOCK);
    for (const header of [v1, whole]) {
      for (let cut = 1; cut < header.length; cut++) {
        expect(parseProxyHeader(header.subarray(0, cut))).toEqual({ kind: 'incomplete' });
      }
    }
  });

  it('refuses what is not a header, a malformed one, or one longer than its limit', () => {
    const invalid = (text: string | Buffer) => parseProxyHeader(Buffer.from(text)).kind;
    expect(invalid('\x10\x0c\x00\x04MQTT')).toBe('invalid');
    expect(invalid('GET / HTTP/1.1\r\n')).toBe('invalid');
    expect(invalid('PROXY TCP4 203.0.113.7 10.0.0.1 50000\r\n')).toBe('invalid');
    expect(invalid('PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n')).toBe('invalid');
    expect(invalid('PROXY TCP4 203.0.113.7 10.0.0.1 65536 1883\r\n')).toBe('invalid');
    expect(invalid('PROXY TCP4 203.0.113.7 10.0.0.1 01 1883\r\n')).toBe('invalid');
    expect(invalid(`PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_BYTES)}`)).toBe('invalid');
    expect(invalid(v2(1, 1, IPV4_BLOCK.slice(0, 8)))).toBe('invalid');
    expect(invalid(v2(2, 1, IPV4_BLOCK))).toBe('invalid');
    const long = v2(1, 1, [...IPV4_BLOCK, ...Array(PROXY_V2_MAX_BYTES).fill(0)]);
    expect(invalid(long.subarray(0, 16))).toBe('invalid');
  });

  it('never throws, and never asks for more than its limit', () => {
    const header = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.concat([Buffer.from(V2_SIGNATURE), bytes])),
      fc.string({ maxLength: 200 }).map((text) => Buffer.from(`PROXY ${text}`, 'latin1')),
    );
    fc.assert(
      fc.property(header, (data) => {
        const result = parseProxyHeader(data);
        if (result.kind === 'incomplete') expect(data.length).toBeLessThan(PROXY_V2_MAX_BYTES);
        if (result.kind === 'header') expect(result.length).toBeLessThanOrEqual(data.length);
      }),
    );
  });
});
