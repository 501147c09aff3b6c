import { describe, expect, it } from 'vitest';
import { generateToken, hashesEqual, hashToken, looksLikeToken } from './token-codec.js';

describe('token codec', () => {
  it('makes prefixed 256-bit base64url tokens with a non-secret hint', () => {
    const { token, hash, hint } = generateToken('device');
    expect(token).toMatch(/^thd_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(hash).toEqual(hashToken(token));
    expect(hash).toHaveLength(32);
    expect(hint).toBe(`thd_…${token.slice(-4)}`);
    expect(generateToken('admin').token).toMatch(/^tha_/);
  });

  it('never repeats a token', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateToken('device').token));
    expect(tokens.size).toBe(1000);
  });

  it('checks the shape per kind', () => {
    const device = generateToken('device').token;
    expect(looksLikeToken(device, 'device')).toBe(true);
    expect(looksLikeToken(device, 'admin')).toBe(false);
    expect(looksLikeToken(`${device}x`, 'device')).toBe(false);
    expect(looksLikeToken('thd_short', 'device')).toBe(false);
  });

  it('compares hashes by value', () => {
    expect(hashesEqual(hashToken('a'), hashToken('a'))).toBe(true);
    expect(hashesEqual(hashToken('a'), hashToken('b'))).toBe(false);
    expect(hashesEqual(hashToken('a'), Buffer.alloc(3))).toBe(false);
  });
});
