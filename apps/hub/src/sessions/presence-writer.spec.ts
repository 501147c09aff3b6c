import type { PresenceChange } from '@telehub/db';
import { describe, expect, it } from 'vitest';
import { PresenceWriter } from './presence-writer.js';

const change = (deviceId: string, online: boolean, at = 1): PresenceChange => ({
  deviceId,
  online,
  node: 'n',
  instance: 'i',
  sessionId: `${deviceId}-session`,
  transport: 'mqtt',
  connectedAt: 1,
  at,
});

describe('PresenceWriter', () => {
  it('writes what arrives while a write runs as the next batch, latest change per device', async () => {
    const batches: PresenceChange[][] = [];
    let release!: () => void;
    const writer = new PresenceWriter({
      write: async (changes) => {
        batches.push(changes);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      onError: () => undefined,
    });
    const first = writer.apply(change('a', true));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [
      writer.apply(change('b', true)),
      writer.apply(change('c', true, 1)),
      writer.apply(change('c', false, 2)),
    ];
    release();
    await Promise.all([first, ...second]);
    expect(batches.map((batch) => batch.map((item) => `${item.deviceId}:${item.online}`))).toEqual([
      ['a:true'],
      ['b:true', 'c:false'],
    ]);
  });

  it('puts changes of the same turn in one batch', async () => {
    const batches: number[] = [];
    const writer = new PresenceWriter({
      write: async (changes) => void batches.push(changes.length),
      onError: () => undefined,
    });
    await Promise.all(['a', 'b', 'c'].map((id) => writer.apply(change(id, true))));
    expect(batches).toEqual([3]);
  });

  it('reports a failed write and settles its callers, then goes on', async () => {
    const errors: number[] = [];
    let calls = 0;
    const writer = new PresenceWriter({
      write: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database down');
      },
      onError: (_error, count) => errors.push(count),
    });
    await writer.apply(change('a', true));
    await writer.apply(change('b', true));
    expect(errors).toEqual([1]);
    expect(calls).toBe(2);
  });
});
