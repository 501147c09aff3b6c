import { randomUUID } from 'node:crypto';

/**
 * A random UUID as one flat string. Node's randomUUID() builds its string by concatenation, which V8 keeps as a
 * tree of cons strings (about 450 bytes) until something flattens it; an id kept for every connection of an idle
 * fleet should cost its 36 bytes (bench/README.md, "Issue 16 item 6").
 */
export function flatRandomUuid(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}
