import { describe, expect, it } from 'vitest';
import { flatRandomUuid } from './flat-random-uuid.js';

describe('flatRandomUuid', () => {
  it('is a random version 4 UUID', () => {
    const ids = new Set(Array.from({ length: 100 }, () => flatRandomUuid()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
