import { describe, expect, it } from 'vitest';
import { loadConfig } from './hub-config.js';
import { MAX_WORKERS, workerCount } from './worker-count.js';

describe('TELEHUB_WORKERS', () => {
  it('is one process unless asked, a number as given, or one per core with auto', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ TELEHUB_WORKERS: '3' }).workers).toBe(3);
    expect(workerCount('auto', 2)).toBe(2);
    expect(workerCount('auto', 512)).toBe(MAX_WORKERS);
  });

  it('refuses what is not a count', () => {
    for (const value of ['0', '-1', '1.5', 'many', String(MAX_WORKERS + 1)]) {
      expect(() => loadConfig({ TELEHUB_WORKERS: value })).toThrow(/TELEHUB_WORKERS/);
    }
  });
});
