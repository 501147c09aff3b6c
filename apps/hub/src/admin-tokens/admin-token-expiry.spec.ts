import { describe, expect, it } from 'vitest';
import { parseExpiresOption, resolveExpiry } from './admin-token-expiry.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');

describe('resolveExpiry', () => {
  it('is never without a field, seconds from now, or the RFC 3339 time', () => {
    expect(resolveExpiry({}, NOW)).toEqual({ ok: true, expiresAt: null });
    expect(resolveExpiry({ expiresInSeconds: 3600 }, NOW)).toEqual({
      ok: true,
      expiresAt: new Date('2026-12-07T13:00:00Z'),
    });
    expect(resolveExpiry({ expiresAt: '2026-12-08T01:00:00+01:00' }, NOW)).toEqual({
      ok: true,
      expiresAt: new Date('2026-12-08T00:00:00Z'),
    });
  });

  it('refuses a time in the past, now, or more than ten years ahead', () => {
    expect(resolveExpiry({ expiresAt: '2026-12-07T12:00:00Z' }, NOW)).toMatchObject({ ok: false });
    expect(resolveExpiry({ expiresAt: '2020-01-01T00:00:00Z' }, NOW)).toMatchObject({
      ok: false,
      message: 'must be in the future',
    });
    expect(resolveExpiry({ expiresAt: '2037-01-01T00:00:00Z' }, NOW)).toMatchObject({ ok: false });
    expect(resolveExpiry({ expiresAt: 'tomorrow' }, NOW)).toMatchObject({ ok: false });
  });
});

describe('parseExpiresOption (the CLI --expires)', () => {
  it.each([
    ['90s', { expiresInSeconds: 90 }],
    ['15m', { expiresInSeconds: 900 }],
    ['12h', { expiresInSeconds: 43_200 }],
    ['30d', { expiresInSeconds: 2_592_000 }],
    ['2w', { expiresInSeconds: 1_209_600 }],
    ['2027-01-31T12:00:00Z', { expiresAt: '2027-01-31T12:00:00Z' }],
  ])('reads %s', (text, expected) => {
    expect(parseExpiresOption(text)).toEqual(expected);
  });

  it.each(['', '30', 'd', '-1d', '1.5h', '30 days', '2027-01-31', '1y'])('refuses %j', (text) => {
    expect(parseExpiresOption(text)).toBeUndefined();
  });
});
