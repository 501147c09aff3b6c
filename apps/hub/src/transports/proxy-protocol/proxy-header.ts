import { isIPv4, isIPv6 } from 'node:net';

/**
 * The PROXY protocol header a load balancer (HAProxy `send-proxy`/`send-proxy-v2`, AWS NLB, nginx
 * `proxy_protocol`) puts before a connection's own bytes, so the server learns the client's address.
 * Specification: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt ("the spec" below).
 */

/** The longest version 1 header, CRLF included (spec §2.1: "a 107-byte buffer"). */
export const PROXY_V1_MAX_BYTES = 107;
/**
 * The longest version 2 header accepted: the 16-byte fixed part and an IPv6 address block (36 bytes) leave room
 * for the TLVs a load balancer may add (unique id, TLS details); a longer one is refused rather than buffered.
 */
export const PROXY_V2_MAX_BYTES = 1024;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Spec §2.2: the 12-byte signature of version 2. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;

export interface ProxiedSource {
  address: string;
  port: number;
}

export type ProxyHeaderResult =
  /** More bytes are needed to tell. */
  | { kind: 'incomplete' }
  /** Not a PROXY header, or a malformed one: the connection is closed. */
  | { kind: 'invalid'; reason: string }
  /**
   * A header of `length` bytes. No `source` for a LOCAL connection (the proxy's own health check, spec §2.2) or an
   * unknown/unspecified family: the connection's own address stands.
   */
  | { kind: 'header'; length: number; source?: ProxiedSource };

/** Reads the PROXY header (version 1 or 2) at the start of `data`. Never throws. */
export function parseProxyHeader(data: Buffer): ProxyHeaderResult {
  if (startsWith(data, V2_SIGNATURE)) return parseV2(data);
  if (startsWith(data, V1_PREFIX)) return parseV1(data);
  return { kind: 'invalid', reason: 'the connection did not start with a PROXY protocol header' };
}

/** Whether `data` starts with `prefix`, or is a beginning of it (then more data may still match). */
function startsWith(data: Buffer, prefix: Buffer): boolean {
  const length = Math.min(data.length, prefix.length);
  return data.subarray(0, length).equals(prefix.subarray(0, length));
}

/** Spec §2.1: `PROXY TCP4|TCP6|UNKNOWN <src> <dst> <sport> <dport>\r\n`, single spaces, at most 107 bytes. */
function parseV1(data: Buffer): ProxyHeaderResult {
  if (data.length < V1_PREFIX.length) return { kind: 'incomplete' };
  const end = data.subarray(0, PROXY_V1_MAX_BYTES).indexOf('\r\n');
  if (end < 0) {
    return data.length >= PROXY_V1_MAX_BYTES
      ? { kind: 'invalid', reason: 'PROXY v1 header longer than 107 bytes' }
      : { kind: 'incomplete' };
  }
  const length = end + 2;
  const fields = data.subarray(0, end).toString('latin1').split(' ');
  // "UNKNOWN": the receiver must ignore everything after it and use the connection's own address.
  if (fields[1] === 'UNKNOWN') return { kind: 'header', length };
  if (fields.length !== 6) return { kind: 'invalid', reason: 'PROXY v1 header without its six fields' };
  const [, family, source, , sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const familyMatches = family === 'TCP4' ? isIPv4(source) : family === 'TCP6' ? isIPv6(source) : false;
  if (!familyMatches) return { kind: 'invalid', reason: 'PROXY v1 header with an unknown family or a bad address' };
  const port = v1Port(sourcePort);
  if (port === undefined || v1Port(destinationPort) === undefined) {
    return { kind: 'invalid', reason: 'PROXY v1 header with a bad port' };
  }
  return { kind: 'header', length, source: { address: source, port } };
}

/** Spec §2.1: ports are decimal, 0 to 65535, without leading zeros. */
function v1Port(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffff ? port : undefined;
}

/** Spec §2.2: signature, version and command, family and protocol, length, then the addresses and TLVs. */
function parseV2(data: Buffer): ProxyHeaderResult {
  if (data.length < V2_FIXED_BYTES) return { kind: 'incomplete' };
  const versionAndCommand = data[12]!;
  if (versionAndCommand >> 4 !== 2) return { kind: 'invalid', reason: 'PROXY v2 header of another version' };
  const command = versionAndCommand & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: 'PROXY v2 header with an unknown command' };
  const length = V2_FIXED_BYTES + data.readUInt16BE(14);
  if (length > PROXY_V2_MAX_BYTES)
    return { kind: 'invalid', reason: `PROXY v2 header over ${PROXY_V2_MAX_BYTES} bytes` };
  if (data.length < length) return { kind: 'incomplete' };
  // LOCAL: the proxy speaks for itself (health checks); the connection's own address stands.
  if (command === 0) return { kind: 'header', length };
  const family = data[13]! >> 4;
  const block = data.subarray(V2_FIXED_BYTES, length);
  if (family === 0x1) {
    if (block.length < 12) return { kind: 'invalid', reason: 'PROXY v2 IPv4 header too short' };
    return {
      kind: 'header',
      length,
      source: { address: [...block.subarray(0, 4)].join('.'), port: block.readUInt16BE(8) },
    };
  }
  if (family === 0x2) {
    if (block.length < 36) return { kind: 'invalid', reason: 'PROXY v2 IPv6 header too short' };
    return {
      kind: 'header',
      length,
      source: { address: ipv6Text(block.subarray(0, 16)), port: block.readUInt16BE(32) },
    };
  }
  // UNSPEC or UNIX: "the receiver must accept the connection and use the real connection endpoints".
  return { kind: 'header', length };
}

/**
 * The text of a 16-byte IPv6 address as Node.js writes `remoteAddress` (RFC 5952: the longest run of zero groups
 * as `::`; an IPv4-mapped address as `::ffff:a.b.c.d`), so the rest of the hub sees one spelling.
 */
function ipv6Text(bytes: Buffer): string {
  const groups: number[] = [];
  for (let offset = 0; offset < 16; offset += 2) groups.push(bytes.readUInt16BE(offset));
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${[...bytes.subarray(12, 16)].join('.')}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
  }
  const text = (part: number[]) => part.map((group) => group.toString(16)).join(':');
  if (bestStart < 0) return text(groups);
  return `${text(groups.slice(0, bestStart))}::${text(groups.slice(bestStart + bestLength))}`;
}
