import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TOKEN_PREFIX } from '@telehub/contracts';

export type TokenKind = keyof typeof TOKEN_PREFIX;

const TOKEN_BYTES = 32; // 256 random bits
const TOKEN_PATTERN = /^th[da]_[A-Za-z0-9_-]{43}$/;

export interface GeneratedToken {
  token: string;
  hash: Buffer;
  hint: string;
}

/**
 * `thd_` (device) or `tha_` (admin) + 256 random bits in base64url. The prefix lets secret scanners
 * recognise a leaked token; the hint (prefix + last four characters) tells tokens apart without revealing them.
 */
export function generateToken(kind: TokenKind): GeneratedToken {
  const token = `${TOKEN_PREFIX[kind]}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, hash: hashToken(token), hint: tokenHint(token) };
}

/** SHA-256: the token has 256 bits of entropy, so a slow password hash would add cost and no safety. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function tokenHint(token: string): string {
  return `${token.slice(0, 4)}…${token.slice(-4)}`;
}

/** Cheap shape check before any hashing or lookup. Tokens supplied through the environment may have any shape. */
export function looksLikeToken(token: string, kind: TokenKind): boolean {
  return TOKEN_PATTERN.test(token) && token.startsWith(TOKEN_PREFIX[kind]);
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
