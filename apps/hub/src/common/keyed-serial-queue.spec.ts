import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue } from './keyed-serial-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedSerialQueue', () => {
  it('runs the tasks of one key in order, even when an earlier one is slower', async () => {
    const queue = new KeyedSerialQueue();
    const order: string[] = [];
    await Promise.all([
      queue.run('a', async () => {
        await tick(20);
        order.push('a1');
      }),
      queue.run('a', async () => {
        order.push('a2');
      }),
    ]);
    expect(order).toEqual(['a1', 'a2']);
  });

  it('does not make one key wait for another', async () => {
    const queue = new KeyedSerialQueue();
    const order: string[] = [];
    await Promise.all([
      queue.run('a', async () => {
        await tick(20);
        order.push('a');
      }),
      queue.run('b', async () => {
        order.push('b');
      }),
    ]);
    expect(order).toEqual(['b', 'a']);
  });

  it('goes on after a failed task and hands its error to its caller only', async () => {
    const queue = new KeyedSerialQueue();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('forgets keys that have no work left', async () => {
    const queue = new KeyedSerialQueue();
    await queue.run('a', async () => undefined);
    await tick(0);
    expect(queue.activeKeys).toBe(0);
  });
});
