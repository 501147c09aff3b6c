import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a source address is throttled under: an IPv4 address as it is (an IPv4-mapped IPv6 address too, so a
 * dual-stack listener does not count one client twice), an IPv6 address by its /64 prefix, since one host
 * commonly holds a whole /64 (RFC 4291 §2.5.4, SLAAC privacy addresses) and could otherwise take a fresh
 * address for every attempt. Undefined when there is no address (the socket is already gone).
 */
export function sourceAddressKey(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const mapped = unmappedIPv4(address);
  if (mapped) return mapped;
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros; a zone (`%eth0`) is dropped. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const front = groups(head);
  const back = groups(tail);
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; only the first four groups matter here.
  const missing = 8 - front.length - back.length - back.filter((group) => group.includes('.')).length;
  const all = tail === undefined ? front : [...front, ...Array(Math.max(0, missing)).fill('0'), ...back];
  return all.map((group) => (group.includes('.') ? group : Number.parseInt(group, 16).toString(16)));
}

/**
 * The source address as people read it: the same address the throttle keys on, whole (an IPv6 address is not
 * cut to its /64), with an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, a dual-stack listener) as IPv4.
 */
export function displayAddress(address: string | undefined): string | null {
  if (!address) return null;
  return unmappedIPv4(address) ?? address;
}

function unmappedIPv4(address: string): string | undefined {
  return address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/)?.[1];
}
