import { randomBytes, randomFillSync } from 'node:crypto';

const RANDOM_BITS = 74n; // rand_a (12 bits) and rand_b (62 bits)
const RAND_B_MASK = (1n << 62n) - 1n;

let lastMs = -1;
let lastRandom = 0n;
// Random increments drawn in batches: one crypto call per 1,024 ids instead of one per id.
const incrementPool = Buffer.alloc(4096);
let incrementOffset = incrementPool.length;

/**
 * RFC 9562 UUID version 7: 48 bits of Unix milliseconds, then random bits. Ids sort by creation time,
 * so keyset pagination can order by id alone and new rows land at the right edge of the primary key index.
 *
 * Monotonic within this process (RFC 9562 §6.2, method 2): ids made in the same millisecond (a bulk insert
 * makes thousands) take the previous id's random bits plus a random increment, so they still sort in the
 * order they were made. If the clock steps back, the last timestamp is kept.
 */
export function uuidV7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    // Seed with the top random bit clear, leaving room for about 2^73 increments before the millisecond overflows.
    lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`) >> (80n - RANDOM_BITS + 1n);
  } else {
    if (incrementOffset === incrementPool.length) {
      randomFillSync(incrementPool);
      incrementOffset = 0;
    }
    lastRandom += 1n + BigInt(incrementPool.readUInt32BE(incrementOffset));
    incrementOffset += 4;
    if (lastRandom >> RANDOM_BITS !== 0n) {
      // Borrow the next millisecond (RFC 9562 §6.2: "increment the timestamp" on counter overflow).
      lastMs += 1;
      lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`) >> (80n - RANDOM_BITS + 1n);
    }
  }
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes.writeUInt16BE(0x7000 | Number(lastRandom >> 62n), 6);
  bytes.writeBigUInt64BE((2n << 62n) | (lastRandom & RAND_B_MASK), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
