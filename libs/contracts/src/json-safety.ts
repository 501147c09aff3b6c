/**
 * JSON the hub accepts from devices and admins, checked for what would hurt it or what PostgreSQL would refuse:
 * - nesting deeper than a limit: `JSON.stringify`, zod and postgres.js recurse, so a 5,000-level document
 *   overflows the stack long after `JSON.parse` (iterative in V8) accepted it. The depth is measured on the text,
 *   before parsing, in one loop without recursion.
 * - strings and keys PostgreSQL cannot store: U+0000 (text and jsonb refuse it) and lone UTF-16 surrogates
 *   (`"\ud800"`: jsonb refuses the escape, text silently turns it into U+FFFD).
 */

/** Default of TELEHUB_JSON_MAX_DEPTH: `{"a":[1]}` has depth 2. */
export const DEFAULT_JSON_MAX_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when the JSON text nests objects and arrays deeper than `maxDepth`. Brackets inside strings do not
 * count. Malformed text is not judged here (JSON.parse does that); the scan only never under-counts.
 */
export function jsonTextTooDeep(text: string, maxDepth: number): boolean {
  // Depth d needs d opening brackets: a text this short cannot exceed the limit.
  if (text.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === BACKSLASH) index++;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; code: 'invalid_json' | 'json_too_deep'; message: string };

/** JSON.parse behind the depth check; never throws. Messages read after a subject: "payload nests deeper …". */
export function parseJsonText(text: string, maxDepth: number): JsonParseResult {
  if (jsonTextTooDeep(text, maxDepth)) {
    return {
      ok: false,
      code: 'json_too_deep',
      message: `nests deeper than ${maxDepth} levels (TELEHUB_JSON_MAX_DEPTH)`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, code: 'invalid_json', message: `is not valid JSON: ${(error as Error).message}` };
  }
}

/** A UTF-16 surrogate without its partner: with the `u` flag, a paired surrogate is one code point, not Cs. */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/** Neither U+0000 nor a lone UTF-16 surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

export interface UnstorableJson {
  /** Where, as `a.b[2]`, empty for the document itself. */
  path: string;
  message: string;
}

const UNSTORABLE_MESSAGE = 'holds U+0000 or a lone UTF-16 surrogate, which cannot be stored';

/**
 * The first place in a parsed JSON value that cannot be stored: a string or key with U+0000 or a lone
 * surrogate, or nesting deeper than `maxDepth`. Walks with an explicit stack, never recursion.
 */
export function findUnstorableJson(value: unknown, maxDepth: number): UnstorableJson | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const current = item.value;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return { path: item.path, message: `string ${UNSTORABLE_MESSAGE}` };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) {
      return { path: item.path, message: `nests deeper than ${maxDepth} levels (TELEHUB_JSON_MAX_DEPTH)` };
    }
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        stack.push({ value: current[index], path: `${item.path}[${index}]`, depth });
      }
      continue;
    }
    const keys = Object.keys(current);
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index]!;
      const path = item.path ? `${item.path}.${key}` : key;
      if (!isStorableText(key)) return { path: item.path, message: `a key ${UNSTORABLE_MESSAGE}` };
      stack.push({ value: (current as Record<string, unknown>)[key], path, depth });
    }
  }
  return undefined;
}

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain U+0000 or lone UTF-16 surrogates';

/**
 * True when no string or key in the JSON value holds what PostgreSQL cannot store. For request schemas: the hub
 * limits nesting on the request text before it is parsed (TELEHUB_JSON_MAX_DEPTH), and this walk does not recurse.
 */
export function isStorableJson(value: unknown): boolean {
  return findUnstorableJson(value, Number.POSITIVE_INFINITY) === undefined;
}

/** Makes an untrusted string safe to store and to log: U+0000 and lone surrogates become U+FFFD, cut to `maxBytes`. */
export function cleanText(text: string, maxBytes: number): string {
  const clean = isStorableText(text) ? text : text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd');
  // Every UTF-16 unit is at most 3 UTF-8 bytes: most strings are decided without encoding them.
  if (clean.length * 3 <= maxBytes) return clean;
  const encoded = utf8Encoder.encode(clean);
  if (encoded.length <= maxBytes) return clean;
  // Cut on a character boundary (a split character decodes to U+FFFD, dropped), then say how long it was.
  const suffix = `… (${encoded.length} bytes)`;
  const room = Math.max(0, maxBytes - utf8Encoder.encode(suffix).length);
  const cut = utf8Decoder.decode(encoded.subarray(0, room)).replace(/\ufffd$/, '');
  return `${cut}${suffix}`;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
