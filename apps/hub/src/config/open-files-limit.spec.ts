import { describe, expect, it } from 'vitest';
import { defaultHttpMaxConnections, defaultMaxConnections, openFilesLimit } from './open-files-limit.js';

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

  it('keeps device sessions below the limit, with descriptors to spare for HTTP clients and everything else', () => {
    expect(defaultMaxConnections(20_000, 20_000, 256)).toBe(19_488);
    expect(defaultMaxConnections(20_000, 20_000, 1_000)).toBe(18_744);
    expect(defaultMaxConnections(20_000, 1_048_576, 256)).toBe(20_000);
    expect(defaultMaxConnections(20_000, undefined, 256)).toBe(20_000);
  });

  it('gives HTTP clients their own budget, smaller when the limit is low', () => {
    expect(defaultHttpMaxConnections(256, 20_000)).toBe(256);
    expect(defaultHttpMaxConnections(256, undefined)).toBe(256);
    // The common 1,024 default of a login shell: 192 HTTP connections, 576 device sessions, 256 for the rest.
    expect(defaultHttpMaxConnections(256, 1_024)).toBe(192);
    expect(defaultMaxConnections(20_000, 1_024, 192)).toBe(576);
    expect(defaultHttpMaxConnections(256, 100)).toBe(1);
  });
});
