import { describe, expect, it } from 'vitest';
import { CommandDedupe } from './command-dedupe.js';

const ok = { status: 'ok' as const, result: { n: 1 } };

describe('CommandDedupe', () => {
  it('reports a new id, then running, then finished with its outcome', () => {
    const dedupe = new CommandDedupe(10);
    expect(dedupe.begin('a')).toEqual({ kind: 'new' });
    expect(dedupe.begin('a')).toEqual({ kind: 'running' });
    dedupe.finish('a', ok);
    expect(dedupe.begin('a')).toEqual({ kind: 'finished', outcome: ok });
    expect(dedupe.begin('b')).toEqual({ kind: 'new' });
  });

  it('treats a forgotten id as new', () => {
    const dedupe = new CommandDedupe(10);
    dedupe.begin('a');
    dedupe.forget('a');
    expect(dedupe.begin('a')).toEqual({ kind: 'new' });
  });

  it('stays within its capacity, forgetting the oldest finished command first', () => {
    const dedupe = new CommandDedupe(3);
    dedupe.begin('running-1');
    dedupe.begin('done-1');
    dedupe.finish('done-1', ok);
    dedupe.begin('done-2');
    dedupe.finish('done-2', ok);
    dedupe.begin('new-1');
    expect(dedupe.size).toBe(3);
    // done-1 went; the older running-1 stays, as forgetting it would run it twice if delivered again.
    expect(dedupe.begin('running-1')).toEqual({ kind: 'running' });
    expect(dedupe.begin('done-2')).toEqual({ kind: 'finished', outcome: ok });
    expect(dedupe.begin('done-1')).toEqual({ kind: 'new' });
  });

  it('forgets the oldest running command when every remembered command is running', () => {
    const dedupe = new CommandDedupe(2);
    dedupe.begin('a');
    dedupe.begin('b');
    dedupe.begin('c');
    expect(dedupe.size).toBe(2);
    expect(dedupe.begin('b')).toEqual({ kind: 'running' });
    expect(dedupe.begin('c')).toEqual({ kind: 'running' });
  });

  it('refuses a capacity below one', () => {
    expect(() => new CommandDedupe(0)).toThrow(RangeError);
  });
});
