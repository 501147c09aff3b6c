import { describe, expect, it } from 'vitest';
import { href, parseRoute } from './router.js';

describe('hash routes', () => {
  it('parses and builds the same routes', () => {
    for (const route of [
      { page: 'overview' },
      { page: 'devices' },
      { page: 'device', id: '0196a3c1-0000-7000-8000-0000000000aa' },
      { page: 'admin-tokens' },
    ] as const) {
      expect(parseRoute(href(route))).toEqual(route);
    }
  });

  it('treats an empty hash as the overview and anything else as not found', () => {
    expect(parseRoute('')).toEqual({ page: 'overview' });
    expect(parseRoute('#/nope')).toEqual({ page: 'not-found', path: '/nope' });
  });
});
