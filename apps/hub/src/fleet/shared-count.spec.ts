import { describe, expect, it } from 'vitest';
import { SharedCount } from './shared-count.js';

/** A count whose reads the test finishes by hand, on a clock the test moves. */
function setup() {
  let clock = 0;
  let next = 0;
  const pending: ((value: number) => void)[] = [];
  const count = new SharedCount(
    () =>
      new Promise<number>((resolve) => {
        next += 1;
        const value = next;
        pending.push(() => resolve(value));
      }),
    { maxAgeMs: 1000, staleMs: 5000, now: () => clock },
  );
  return {
    count,
    reads: () => next,
    finish: async () => {
      pending.shift()?.(0);
      await new Promise((resolve) => setImmediate(resolve));
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('SharedCount', () => {
  it('shares one read between callers at the same moment and within maxAgeMs', async () => {
    const { count, reads, finish, advance } = setup();
    const [a, b] = [count.fresh(), count.recent()];
    await finish();
    expect([await a, await b]).toEqual([1, 1]);
    advance(999);
    expect(await count.fresh()).toBe(1);
    expect(await count.recent()).toBe(1);
    expect(reads()).toBe(1);
  });

  it('fresh waits for a new count once the last is maxAgeMs old', async () => {
    const { count, reads, finish, advance } = setup();
    const first = count.fresh();
    await finish();
    await first;
    advance(1000);
    const second = count.fresh();
    await finish();
    expect(await second).toBe(2);
    expect(reads()).toBe(2);
  });

  it('recent answers at once with the last count and counts again behind it', async () => {
    const { count, reads, finish, advance } = setup();
    const first = count.recent();
    await finish();
    await first;
    advance(1500);
    expect(await count.recent()).toBe(1);
    expect(reads()).toBe(2);
    // Callers while that count runs get the last one and start no other read.
    expect(await count.recent()).toBe(1);
    expect(reads()).toBe(2);
    await finish();
    expect(await count.recent()).toBe(2);
  });

  it('recent waits when the last count is staleMs old (nobody asked for a while)', async () => {
    const { count, reads, finish, advance } = setup();
    const first = count.recent();
    await finish();
    await first;
    advance(5000);
    const later = count.recent();
    await finish();
    expect(await later).toBe(2);
    expect(reads()).toBe(2);
  });
});
