import { describe, expect, it } from 'vitest';
import { expiryFields } from './expiry-choices.js';

describe('expiryFields', () => {
  it('gives seconds for a span, nothing for never', () => {
    expect(expiryFields('30d', '')).toEqual({ expiresInSeconds: 30 * 86_400 });
    expect(expiryFields('1y', '')).toEqual({ expiresInSeconds: 365 * 86_400 });
    expect(expiryFields('never', '2030-01-01')).toEqual({});
  });

  it('gives the end of the chosen day, on this clock, as an RFC 3339 time', () => {
    const fields = expiryFields('date', '2027-03-31');
    expect(fields).toEqual({ expiresAt: new Date('2027-03-31T23:59:59').toISOString() });
    expect(fields?.expiresAt).toMatch(/^2027-0[34]-\d\dT\d\d:\d\d:59\.000Z$/);
  });

  it('needs a date when the choice is a date', () => {
    expect(expiryFields('date', '')).toBeUndefined();
    expect(expiryFields('date', '31/03/2027')).toBeUndefined();
  });
});
