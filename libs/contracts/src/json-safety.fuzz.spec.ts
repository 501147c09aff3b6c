import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanText, findUnstorableJson, isStorableText, jsonTextTooDeep, parseJsonText } from './json-safety.js';
import { parseRfc3339 } from './rfc3339.js';

/** Runs per property; with the other fuzz suites, over 100,000 cases in the test command. */
const RUNS = 10_000;
const params = { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261207) };

/** Any UTF-16 code unit (lone surrogates and U+0000 included), weighted towards what JSON and PostgreSQL care about. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('\u0000', '\ud800', '\udfff', '😀', '"', '\\', '[', ']', '{', '}', ':', ',', 'é'),
);
const anyText = fc.string({ unit: codeUnit, maxLength: 60 });

/** JSON values with hostile strings and keys, nested up to `depth`. */
function hostileJson(depth: number) {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: depth },
      fc.oneof(anyText, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(anyText, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
}

/** The depth of a parsed value, by the definition the limit uses: `{}` is 1, `{"a":[1]}` is 2. */
function referenceDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Reference for well-formed UTF-16: every high surrogate followed by a low one, no low one alone. */
function isWellFormed(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      index++;
    }
  }
  return true;
}

/** Nesting built as text, `[[[…]]]` or `{"a":{"a":…}}`, around strings full of brackets and escapes. */
const nestedText = fc
  .tuple(
    fc.integer({ min: 0, max: 80 }),
    fc.constantFrom('[', '{"a":'),
    fc.constantFrom('"]]]"', '"{{["', '1', '"a\\"]"', '"\\\\"'),
  )
  .map(([levels, open, inner]) => {
    const close = open === '[' ? ']' : '}';
    return { text: `${open.repeat(levels)}${inner}${close.repeat(levels)}`, levels };
  });

describe('JSON safety under random input (fast-check)', () => {
  it('parseJsonText never throws, and accepts exactly what JSON.parse accepts within the depth limit', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.json(),
          hostileJson(6).map((value) => JSON.stringify(value)),
        ),
        fc.integer({ min: 1, max: 8 }),
        (text, maxDepth) => {
          const result = parseJsonText(text, maxDepth);
          let parsed: { value: unknown } | undefined;
          try {
            parsed = { value: JSON.parse(text) };
          } catch {
            parsed = undefined;
          }
          if (!parsed) {
            expect(result.ok).toBe(false);
            return;
          }
          const tooDeep = referenceDepth(parsed.value) > maxDepth;
          expect(result).toEqual(
            tooDeep ? expect.objectContaining({ ok: false, code: 'json_too_deep' }) : { ok: true, value: parsed.value },
          );
        },
      ),
      params,
    );
  });

  it('jsonTextTooDeep counts nesting, not brackets inside strings', () => {
    fc.assert(
      fc.property(nestedText, fc.integer({ min: 1, max: 60 }), ({ text, levels }, maxDepth) => {
        expect(referenceDepth(JSON.parse(text))).toBe(levels);
        expect(jsonTextTooDeep(text, maxDepth)).toBe(levels > maxDepth);
      }),
      params,
    );
  });

  it('findUnstorableJson finds U+0000 and lone surrogates anywhere, and nothing else', () => {
    fc.assert(
      fc.property(hostileJson(5), (value) => {
        const texts: string[] = [];
        const stack: unknown[] = [value];
        while (stack.length > 0) {
          const current = stack.pop();
          if (typeof current === 'string') texts.push(current);
          else if (current && typeof current === 'object') {
            for (const [key, child] of Object.entries(current)) {
              if (!Array.isArray(current)) texts.push(key);
              stack.push(child);
            }
          }
        }
        const storable = texts.every((text) => !text.includes('\u0000') && isWellFormed(text));
        expect(findUnstorableJson(value, 1000) === undefined).toBe(storable);
        // What it passes is what PostgreSQL's jsonb takes: JSON text without \u0000 or lone-surrogate escapes.
        if (storable) expect(JSON.stringify(value)).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}/);
      }),
      params,
    );
  });

  it('cleanText always gives storable text within the byte limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 400 }), fc.integer({ min: 16, max: 300 }), (text, max) => {
        const clean = cleanText(text, max);
        expect(isStorableText(clean)).toBe(true);
        expect(new TextEncoder().encode(clean).length).toBeLessThanOrEqual(max);
        if (isStorableText(text) && new TextEncoder().encode(text).length <= max) expect(clean).toBe(text);
      }),
      params,
    );
  });

  it('parseRfc3339 reads back every instant it could be given, and never throws on other text', () => {
    // A day inside the four-digit years, so the local time at any offset still has four digits.
    const instants = fc.date({
      min: new Date('0001-01-02T00:00:00Z'),
      max: new Date('9999-12-30T23:59:59Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instants, fc.integer({ min: -23 * 60, max: 23 * 60 }), (date, offsetMinutes) => {
        const ms = date.getTime();
        const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(parseRfc3339(`${local}${offset}`)).toBe(ms);
        expect(parseRfc3339(date.toISOString())).toBe(ms);
      }),
      params,
    );
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc
            .tuple(
              fc.integer({ min: 0, max: 9999 }),
              fc.integer({ min: 0, max: 99 }),
              fc.integer({ min: 0, max: 99 }),
              fc.integer({ min: 0, max: 99 }),
            )
            .map(
              ([y, m, d, h]) =>
                `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00Z`,
            ),
        ),
        (text) => {
          const ms = parseRfc3339(text);
          if (ms === undefined) return;
          // Whatever it accepts names that very calendar day and hour: nothing is rolled over.
          const match = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d)/.exec(text);
          if (match && /Z$/.test(text)) {
            const date = new Date(ms);
            expect([date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours()]).toEqual(
              match.slice(1, 5).map(Number),
            );
          }
        },
      ),
      params,
    );
  });
});
