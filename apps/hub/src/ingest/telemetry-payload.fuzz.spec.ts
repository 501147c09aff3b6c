import {
  CommandResultPayloadSchema,
  CreateCommandRequestSchema,
  CreateDeviceRequestSchema,
  findUnstorableJson,
  parseDeviceFrame,
} from '@telehub/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PayloadLimits, parseJson, toStatePatch, toTelemetryPoints } from './telemetry-payload.js';

/** Runs per property; with the other fuzz suites, over 100,000 cases in the test command. */
const RUNS = 10_000;
const params = { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261207) };

const NOW = Date.UTC(2026, 11, 7, 12);
const limits: PayloadLimits = {
  maxPoints: 50,
  maxJsonDepth: 8,
  minTimeMs: Date.UTC(2000, 0, 1),
  maxFutureMs: 86_400_000,
};
const METRIC = /^[A-Za-z0-9_.:/-]{1,100}$/;
const PAYLOAD_CODES = ['invalid_json', 'json_too_deep', 'invalid_payload', 'too_many_points'];

const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('\u0000', '\ud800', '\udc00', '"', '\\', '[', '{', 'a', '_', '.', 'T', 'Z', '-', ':'),
);
const anyText = fc.string({ unit: codeUnit, maxLength: 40 });

/** Scalars a device might send, including every kind of wrong one. */
const scalar = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  anyText,
  fc.constantFrom(Number.MAX_VALUE, -0, 1e308, 2 ** 53 + 1),
);

function hostileJson(depth: number) {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: depth },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(anyText, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
}

/** A `ts` as devices get it wrong: seconds, strings of near-dates, impossible dates, anything. */
const ts = fc.oneof(
  fc.integer({ min: -1e13, max: 1e13 }),
  fc.double(),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc
    .tuple(
      fc.integer({ min: 1990, max: 2100 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.constantFrom('Z', '+01:00', '-23:59', '+24:00', '', 'z'),
    )
    .map(
      ([y, m, d, h, zone]) =>
        `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00${zone}`,
    ),
  anyText,
  fc.constant(undefined),
);

/** Objects shaped like telemetry: mostly good metric names and numbers, with every kind of mistake mixed in. */
const telemetryObject = fc
  .tuple(
    fc.dictionary(fc.oneof(fc.stringMatching(/^[a-z_]{1,8}$/), anyText), fc.oneof(fc.double(), fc.boolean(), scalar), {
      maxKeys: 6,
    }),
    ts,
  )
  .map(([metrics, time]) => (time === undefined ? metrics : { ...metrics, ts: time }));
const telemetryMessage = fc.oneof(telemetryObject, fc.array(telemetryObject, { maxLength: 12 }), hostileJson(4));

/** Valid JSON texts, then cut, bit-flipped or spliced, as a network or a buggy device would deliver them. */
const mangledText = fc
  .tuple(
    telemetryMessage.map((value) => JSON.stringify(value) ?? 'null'),
    fc.nat(),
    fc.nat(),
    fc.integer({ min: 0, max: 4 }),
  )
  .map(([text, at, bits, how]) => {
    const index = text.length === 0 ? 0 : at % text.length;
    if (how === 0) return text;
    if (how === 1) return text.slice(0, index);
    if (how === 2)
      return (
        text.slice(0, index) + String.fromCharCode(text.charCodeAt(index) ^ (1 << (bits % 16))) + text.slice(index + 1)
      );
    if (how === 3) return `${text.slice(0, index)}[{"x":${text.slice(index)}`;
    return `${'['.repeat(bits % 20)}${text}`;
  });

describe('device payload rules under random input (fast-check)', () => {
  it('telemetry: any text is refused with a known code or becomes valid points, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(mangledText, anyText), (text) => {
        const json = parseJson(text, limits.maxJsonDepth);
        if (!json.ok) {
          expect(PAYLOAD_CODES).toContain(json.code);
          return;
        }
        const points = toTelemetryPoints(json.value, NOW, limits);
        if (!points.ok) {
          expect(PAYLOAD_CODES).toContain(points.code);
          expect(points.message.length).toBeGreaterThan(0);
          return;
        }
        expect(points.value.length).toBeGreaterThan(0);
        expect(points.value.length).toBeLessThanOrEqual(limits.maxPoints);
        for (const point of points.value) {
          expect(point.metric).toMatch(METRIC);
          expect(point.metric).not.toBe('ts');
          expect(Number.isFinite(point.value)).toBe(true);
          expect(point.time).toBeGreaterThanOrEqual(limits.minTimeMs);
          expect(point.time).toBeLessThanOrEqual(NOW + limits.maxFutureMs);
        }
      }),
      params,
    );
  });

  it('telemetry: a valid ts string is stored as the instant it names, never rolled over', () => {
    fc.assert(
      fc.property(telemetryObject, (object) => {
        const points = toTelemetryPoints(object, NOW, limits);
        const time = (object as { ts?: unknown }).ts;
        if (!points.ok || typeof time !== 'string') return;
        const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):00:00Z$/.exec(time);
        if (!match) return;
        const date = new Date(points.value[0]!.time);
        expect([date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours()]).toEqual(
          match.slice(1).map(Number),
        );
      }),
      params,
    );
  });

  it('state: accepted exactly when it is an object PostgreSQL can store within the depth limit', () => {
    fc.assert(
      fc.property(hostileJson(10), (value) => {
        const patch = toStatePatch(value, limits.maxJsonDepth);
        const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
        const storable = findUnstorableJson(value, limits.maxJsonDepth) === undefined;
        expect(patch.ok).toBe(isObject && storable);
        if (patch.ok) expect(() => JSON.stringify(patch.value)).not.toThrow();
        else expect(patch.code).toBe('invalid_payload');
      }),
      params,
    );
  });

  it('WebSocket frames: any text is a frame or a refusal with a known code, never a throw', () => {
    const frameText = fc.oneof(
      anyText,
      mangledText.map((data) => `{"type":"telemetry","seq":1,"data":${data}}`),
      fc
        .record(
          {
            type: fc.oneof(fc.constantFrom('telemetry', 'state', 'command_ack', 'command_result'), anyText),
            seq: scalar,
            id: fc.oneof(fc.uuid(), anyText),
            data: hostileJson(12),
          },
          { requiredKeys: [] },
        )
        .map((frame) => JSON.stringify(frame)),
    );
    fc.assert(
      fc.property(frameText, (text) => {
        const parsed = parseDeviceFrame(text, limits.maxJsonDepth);
        if (parsed.ok) {
          expect(['telemetry', 'state', 'command_ack', 'command_result']).toContain(parsed.frame.type);
          if ('data' in parsed.frame) {
            expect(findUnstorableJson(parsed.frame.data, limits.maxJsonDepth + 1)?.message ?? '').not.toMatch(/deeper/);
          }
        } else {
          expect(['invalid_json', 'json_too_deep', 'invalid_frame']).toContain(parsed.code);
          if (parsed.seq !== undefined) expect(Number.isSafeInteger(parsed.seq)).toBe(true);
        }
      }),
      params,
    );
  });

  it('admin and command schemas: any JSON is accepted or refused, and what they accept PostgreSQL can store', () => {
    const schemas = [CreateDeviceRequestSchema, CreateCommandRequestSchema, CommandResultPayloadSchema];
    const requestLike = fc.oneof(
      hostileJson(6),
      fc.record(
        {
          name: fc.oneof(fc.stringMatching(/^[a-z_]{1,10}$/), anyText),
          labels: fc.array(anyText, { maxLength: 3 }),
          metadata: hostileJson(4),
          params: hostileJson(4),
          status: fc.constantFrom('ok', 'error', 'maybe'),
          result: hostileJson(4),
          error: anyText,
          idempotencyKey: anyText,
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(requestLike, fc.nat({ max: 2 }), (value, which) => {
        const result = schemas[which]!.safeParse(value);
        if (result.success) expect(findUnstorableJson(result.data, 1000)).toBeUndefined();
      }),
      params,
    );
  });
});
