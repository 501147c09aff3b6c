/**
 * The part of a device id that tells devices apart: its last group. Ids are UUIDv7, whose first characters are
 * the creation time, so devices created in the same minute share them; the last 12 hex digits are random (and,
 * for ids made in the same millisecond, differ by a random increment).
 */
export function shortId(id: string): string {
  return `…${id.slice(-12)}`;
}
