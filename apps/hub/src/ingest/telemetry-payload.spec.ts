import { describe, expect, it } from 'vitest';
import { parseJson, toStatePatch, toTelemetryPoints } from './telemetry-payload.js';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

describe('toTelemetryPoints', () => {
  it('turns one object into points at the time of receipt, booleans as 1/0', () => {
    expect(toTelemetryPoints({ temp: 21.5, hum: 40, door: true }, NOW, 100)).toEqual({
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
      100,
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
    const result = toTelemetryPoints(data, NOW, 100);
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
      3,
    );
    expect(result).toMatchObject({ ok: false, code: 'too_many_points' });
    expect(toTelemetryPoints([{ a: 1, b: 2 }, { a: 3 }], NOW, 3).ok).toBe(true);
  });
});

describe('parseJson and toStatePatch', () => {
  it('reports invalid JSON with the parser message', () => {
    expect(parseJson(Buffer.from('{"temp":'))).toMatchObject({ ok: false, code: 'invalid_json' });
    expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('accepts only objects as state', () => {
    expect(toStatePatch({ fw: '1.2' })).toEqual({ ok: true, value: { fw: '1.2' } });
    expect(toStatePatch([1])).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(toStatePatch('x')).toMatchObject({ ok: false });
  });
});
