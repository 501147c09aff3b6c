import { describe, expect, it } from 'vitest';
import { AckQueue } from './ack-queue.js';
import { deferred, settle } from './testing/session-harness.js';

describe('AckQueue', () => {
  it('releases in queue order although promises settle in reverse', async () => {
    const released: string[] = [];
    const queue = new AckQueue(() => released.push('|'));
    const pending = [deferred<string>(), deferred<string>(), deferred<string>()];
    for (const entry of pending) {
      queue.track(
        entry.promise,
        (value) => released.push(value),
        () => released.push('error'),
      );
    }
    expect(queue.unsettled).toBe(3);
    pending[2]!.resolve('c');
    pending[1]!.resolve('b');
    await settle();
    expect(released).toEqual([]);
    expect(queue.unsettled).toBe(1);
    pending[0]!.resolve('a');
    await settle();
    expect(released).toEqual(['a', 'b', 'c', '|']);
    expect(queue.unsettled).toBe(0);
  });

  it('passes rejections to onError in their turn', async () => {
    const released: string[] = [];
    const queue = new AckQueue(() => {});
    const first = deferred<string>();
    queue.track(
      first.promise,
      (value) => released.push(value),
      () => released.push('failed'),
    );
    queue.track(
      Promise.resolve('second'),
      (value) => released.push(value),
      () => released.push('failed'),
    );
    first.reject(new Error('boom'));
    await settle();
    expect(released).toEqual(['failed', 'second']);
  });

  it('keeps a ready entry behind pending ones', async () => {
    const released: string[] = [];
    const queue = new AckQueue(() => {});
    const first = deferred<string>();
    queue.track(
      first.promise,
      (value) => released.push(value),
      () => {},
    );
    queue.push(() => released.push('ready'));
    expect(released).toEqual([]);
    first.resolve('first');
    await settle();
    expect(released).toEqual(['first', 'ready']);
  });

  it('whenEmpty resolves only after the last release', async () => {
    const queue = new AckQueue(() => {});
    await queue.whenEmpty();
    const entry = deferred<string>();
    queue.track(
      entry.promise,
      () => {},
      () => {},
    );
    let drained = false;
    void queue.whenEmpty().then(() => {
      drained = true;
    });
    await settle();
    expect(drained).toBe(false);
    entry.resolve('x');
    await settle();
    expect(drained).toBe(true);
  });
});
