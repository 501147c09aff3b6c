import { describe, expect, it } from 'vitest';
import { parseTime, parseTimeRange } from './time-range.js';

const NOW = Date.parse('2025-06-15T12:00:00.000Z');

function ms(text: string): number {
  const result = parseTime(text, NOW);
  if (!result.ok) throw new Error(`${text}: ${result.message}`);
  return result.ms;
}

function problem(text: string): string {
  const result = parseTime(text, NOW);
  if (result.ok) throw new Error(`${text} parsed as ${new Date(result.ms).toISOString()}`);
  return result.message;
}

describe('parseTime', () => {
  it('reads now and offsets before now in seconds, minutes, hours, days and weeks', () => {
    expect(ms('now')).toBe(NOW);
    expect(ms('-30s')).toBe(NOW - 30_000);
    expect(ms('-15m')).toBe(NOW - 15 * 60_000);
    expect(ms('-1h')).toBe(NOW - 3_600_000);
    expect(ms('-7d')).toBe(NOW - 7 * 86_400_000);
    expect(ms('-2w')).toBe(NOW - 14 * 86_400_000);
    expect(ms('-0m')).toBe(NOW);
  });

  it('reads RFC 3339 times with Z, offsets, fractions and a lowercase t', () => {
    expect(ms('2025-01-31T12:00:00Z')).toBe(Date.UTC(2025, 0, 31, 12));
    expect(ms('2025-01-31t12:00:00z')).toBe(Date.UTC(2025, 0, 31, 12));
    expect(ms('2025-01-31T14:30:00+02:30')).toBe(Date.UTC(2025, 0, 31, 12));
    expect(ms('2025-01-31T07:00:00-05:00')).toBe(Date.UTC(2025, 0, 31, 12));
    expect(ms('2025-01-31T12:00:00.25Z')).toBe(Date.UTC(2025, 0, 31, 12, 0, 0, 250));
    expect(ms('2025-01-31T12:00:00.123456Z')).toBe(Date.UTC(2025, 0, 31, 12, 0, 0, 123));
    expect(ms('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('reads an offset whose + arrived as a space (an unencoded + in a query string)', () => {
    expect(ms('2025-01-31T14:00:00 02:00')).toBe(Date.UTC(2025, 0, 31, 12));
  });

  it('says what it accepts for anything else', () => {
    for (const text of [
      '',
      'yesterday',
      '1h',
      '+1h',
      '-1y',
      '-1.5h',
      '2025-01-31',
      '2025-01-31T12:00Z',
      '2025-01-31T12:00:00',
      '1735689600000',
    ]) {
      expect(problem(text), text).toMatch(/RFC 3339 .* relative to now like -15m, -1h, -7d, or now/);
    }
  });

  it('refuses dates and times that do not exist instead of rolling them over', () => {
    expect(problem('2025-02-29T00:00:00Z')).toMatch(/not a valid date and time/);
    expect(problem('2025-04-31T00:00:00Z')).toMatch(/not a valid date and time/);
    expect(problem('2025-13-01T00:00:00Z')).toMatch(/not a valid date and time/);
    expect(problem('2025-01-01T24:00:00Z')).toMatch(/not a valid date and time/);
    expect(problem('2025-01-01T12:60:00Z')).toMatch(/not a valid date and time/);
  });

  it('refuses times outside the years 1 to 9999', () => {
    expect(problem('-999999999w')).toMatch(/outside the years 1 to 9999/);
    expect(ms('0001-01-01T00:00:00Z')).toBe(Date.parse('0001-01-01T00:00:00Z'));
  });
});

describe('parseTimeRange', () => {
  it('resolves both ends against the same now', () => {
    expect(parseTimeRange('-1h', 'now', NOW)).toEqual({ ok: true, fromMs: NOW - 3_600_000, toMs: NOW });
    expect(parseTimeRange('2025-06-15T11:00:00Z', '-30m', NOW)).toEqual({
      ok: true,
      fromMs: NOW - 3_600_000,
      toMs: NOW - 1_800_000,
    });
  });

  it('names each bad end, and requires from before to', () => {
    expect(parseTimeRange('soon', 'later', NOW)).toMatchObject({
      ok: false,
      errors: [{ field: 'from' }, { field: 'to' }],
    });
    expect(parseTimeRange('now', '-1h', NOW)).toEqual({
      ok: false,
      errors: [
        {
          field: 'from',
          message: expect.stringMatching(
            /^must be before to \(from is 2025-06-15T12:00:00.000Z, to is 2025-06-15T11:00:00.000Z\)$/,
          ),
        },
      ],
    });
    expect(parseTimeRange('-1h', '-1h', NOW)).toMatchObject({ ok: false, errors: [{ field: 'from' }] });
  });
});
