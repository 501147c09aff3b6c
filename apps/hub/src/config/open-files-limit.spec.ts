import { describe, expect, it } from 'vitest';
import { defaultMaxConnections, openFilesLimit } from './open-files-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes`;

describe('open-files limit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    expect(openFilesLimit(LIMITS)).toBe(20_000);
    expect(openFilesLimit(LIMITS.replace('20000                20000', 'unlimited            unlimited'))).toBe(
      undefined,
    );
    expect(openFilesLimit(undefined)).toBe(undefined);
  });

  it('keeps device sessions below the limit, with descriptors to spare for everything else', () => {
    expect(defaultMaxConnections(20_000, 20_000)).toBe(19_488);
    expect(defaultMaxConnections(20_000, 1_048_576)).toBe(20_000);
    expect(defaultMaxConnections(20_000, undefined)).toBe(20_000);
  });
});
