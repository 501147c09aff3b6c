import { describe, expect, it } from 'vitest';
import { type PayloadLimits, parseJson, toStatePatch, toTelemetryPoints } from './telemetry-payload.js';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function limits(overrides: Partial<PayloadLimits> = {}): PayloadLimits {
  return { maxPoints: 100, maxJsonDepth: 32, minTimeMs: Date.UTC(2000, 0, 1), maxFutureMs: 86_400_000, ...overrides };
}

describe('toTelemetryPoints', () => {
  it('turns one object into points at the time of receipt, booleans as 1/0', () => {
    expect(toTelemetryPoints({ temp: 21.5, hum: 40, door: true }, NOW, limits())).toEqual({
      ok: true,
      value: [
        { time: NOW, metric: 'temp', value: 21.5 },
        { time: NOW, metric: 'hum', value: 40 },
        { time: NOW, metric: 'door', value: 1 },
      ],
    });
  });

  it('reads ts as epoch ms or RFC 3339, per object of a batch', () => {
    const result = toTelemetryPoints(
      [
        { temp: 1, ts: NOW - 2000 },
        { temp: 2, ts: '2026-11-21T11:59:59.500Z' },
      ],
      NOW,
      limits(),
    );
    expect(result).toEqual({
      ok: true,
      value: [
        { time: NOW - 2000, metric: 'temp', value: 1 },
        { time: NOW - 500, metric: 'temp', value: 2 },
      ],
    });
  });

  it.each([
    [{ temp: 'hot' }, /metric "temp" must be a number or a boolean, got the string "hot"/],
    [{ temp: null }, /got null/],
    [{ temp: { c: 1 } }, /got object/],
    [{ temp: 1, ts: 'yesterday' }, /epoch milliseconds or an RFC 3339/],
    [{ temp: 1, ts: 1_732_190_000 }, /seconds instead of milliseconds/],
    [{ temp: 1, ts: NOW + 2 * 86_400_000 }, /future/],
    [{ ts: NOW }, /no metrics/],
    [{ 'bad metric': 1 }, /metric name "bad metric" is not allowed/],
    [[{ temp: 1 }, 7], /item 1: expected an object/],
    [[], /empty array/],
    ['21.5', /expected an object/],
  ])('rejects %j', (data, message) => {
    const result = toTelemetryPoints(data, NOW, limits());
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('invalid_payload');
      expect(result.message).toMatch(message);
    }
  });

  it('limits the points in one message', () => {
    const result = toTelemetryPoints(
      [
        { a: 1, b: 2 },
        { a: 3, b: 4 },
      ],
      NOW,
      limits({ maxPoints: 3 }),
    );
    expect(result).toMatchObject({ ok: false, code: 'too_many_points' });
    expect(toTelemetryPoints([{ a: 1, b: 2 }, { a: 3 }], NOW, limits({ maxPoints: 3 })).ok).toBe(true);
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T12:60:00Z',
    '2024-01-01T12:00:00',
    '2024-01-01T12:00Z',
    '2024-01-01T12:00:00+25:00',
  ])('refuses the impossible or incomplete time %s instead of rolling it over', (ts) => {
    const result = toTelemetryPoints({ temp: 1, ts }, NOW, limits());
    expect(result).toMatchObject({ ok: false, code: 'invalid_payload' });
    if (!result.ok) expect(result.message).toMatch(/RFC 3339 time that exists/);
  });

  it('reads leap days, offsets and fractions exactly', () => {
    const times = [
      ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
      ['2024-02-29t01:30:00.25+01:30', Date.UTC(2024, 1, 29, 0, 0, 0, 250)],
      ['2000-03-01T00:00:00-00:00', Date.UTC(2000, 2, 1)],
    ] as const;
    for (const [ts, expected] of times) {
      expect(toTelemetryPoints({ temp: 1, ts }, NOW, limits())).toEqual({
        ok: true,
        value: [{ time: expected, metric: 'temp', value: 1 }],
      });
    }
  });

  it('holds ts to the window of the settings', () => {
    const window = limits({ minTimeMs: Date.UTC(2020, 0, 1), maxFutureMs: 60_000 });
    expect(toTelemetryPoints({ t: 1, ts: Date.UTC(2019, 11, 31) }, NOW, window)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/before 2020-01-01T00:00:00.000Z \(TELEHUB_TELEMETRY_MIN_TIME\)/),
    });
    expect(toTelemetryPoints({ t: 1, ts: NOW + 61_000 }, NOW, window)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/TELEHUB_TELEMETRY_MAX_FUTURE_MS/),
    });
    expect(toTelemetryPoints({ t: 1, ts: NOW + 60_000 }, NOW, window).ok).toBe(true);
    expect(toTelemetryPoints({ t: 1, ts: Date.UTC(2020, 0, 1) }, NOW, window).ok).toBe(true);
  });
});

describe('parseJson and toStatePatch', () => {
  it('reports invalid JSON with the parser message', () => {
    expect(parseJson(Buffer.from('{"temp":'), 32)).toMatchObject({ ok: false, code: 'invalid_json' });
    expect(parseJson('{"a":1}', 32)).toEqual({ ok: true, value: { a: 1 } });
  });

  it('refuses JSON nested deeper than the limit before parsing it', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(parseJson(deep, 32)).toMatchObject({ ok: false, code: 'json_too_deep' });
    expect(parseJson(`{"a":${'['.repeat(32)}${']'.repeat(32)}}`, 32)).toMatchObject({
      ok: false,
      code: 'json_too_deep',
    });
    expect(parseJson(`{"a":${'['.repeat(31)}${']'.repeat(31)}}`, 32).ok).toBe(true);
    // Brackets inside strings are text, not nesting.
    expect(parseJson(JSON.stringify({ a: '['.repeat(100) }), 32).ok).toBe(true);
  });

  it.each([
    [{ fw: 'a\u0000b' }, /at fw string holds U\+0000/],
    [{ 'a\u0000': 1 }, /a key holds U\+0000/],
    [{ nested: { list: ['ok', '\ud800'] } }, /at nested.list\[1\]/],
    [{ emoji: '\udfff\ud83d' }, /lone UTF-16 surrogate/],
  ])('refuses state PostgreSQL cannot store: %j', (state, message) => {
    const result = toStatePatch(state, 32);
    expect(result).toMatchObject({ ok: false, code: 'invalid_payload' });
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('accepts paired surrogates (emoji) and U+FFFD in state', () => {
    expect(toStatePatch({ mood: '😀', replaced: '\ufffd' }, 32).ok).toBe(true);
  });

  it('accepts only objects as state', () => {
    expect(toStatePatch({ fw: '1.2' }, 32)).toEqual({ ok: true, value: { fw: '1.2' } });
    expect(toStatePatch([1], 32)).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(toStatePatch('x', 32)).toMatchObject({ ok: false });
  });
});
