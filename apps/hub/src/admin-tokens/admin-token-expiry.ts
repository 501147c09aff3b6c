import { ADMIN_TOKEN_LIMITS, parseRfc3339 } from '@telehub/contracts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(\d{1,10})([smhdw])$/;

export type ExpiryResult = { ok: true; expiresAt: Date | null } | { ok: false; message: string };

/**
 * When a new admin token stops working: in `seconds` from now, at an RFC 3339 time, or never (neither given).
 * It must lie in the future and at most ADMIN_TOKEN_LIMITS.maxLifetimeSeconds ahead.
 */
export function resolveExpiry(
  request: { expiresInSeconds?: number; expiresAt?: string },
  now = Date.now(),
): ExpiryResult {
  let at: number | undefined;
  if (request.expiresInSeconds !== undefined) at = now + request.expiresInSeconds * 1000;
  else if (request.expiresAt !== undefined) {
    at = parseRfc3339(request.expiresAt);
    if (at === undefined) return { ok: false, message: 'must be an RFC 3339 time like 2027-01-31T12:00:00Z' };
  }
  if (at === undefined) return { ok: true, expiresAt: null };
  if (at <= now) return { ok: false, message: 'must be in the future' };
  if (at > now + ADMIN_TOKEN_LIMITS.maxLifetimeSeconds * 1000) {
    return {
      ok: false,
      message: 'must be at most ten years ahead (leave the expiry out for a token that does not expire)',
    };
  }
  return { ok: true, expiresAt: new Date(at) };
}

/**
 * The CLI's `--expires`: a duration (`90s`, `15m`, `12h`, `30d`, `8w`) or an RFC 3339 time, as the request
 * fields resolveExpiry() takes; undefined when it is neither.
 */
export function parseExpiresOption(text: string): { expiresInSeconds: number } | { expiresAt: string } | undefined {
  const duration = DURATION.exec(text.trim());
  if (duration) return { expiresInSeconds: Number(duration[1]) * (UNIT_SECONDS[duration[2]!] as number) };
  if (parseRfc3339(text.trim()) !== undefined) return { expiresAt: text.trim() };
  return undefined;
}
