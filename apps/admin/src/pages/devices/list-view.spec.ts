import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW, parseView, viewChange, viewHash } from './list-view.js';

describe('device list view in the address', () => {
  it('round-trips search, status, labels and sort', () => {
    const view = { search: 'pump -04', status: 'offline', labels: ['site:4', 'floor 2'], sort: '-lastSeen' } as const;
    const hash = viewHash({ ...view, labels: [...view.labels] });
    expect(hash).toBe('#/devices?q=pump+-04&status=offline&label=site%3A4&label=floor+2&sort=-lastSeen');
    expect(parseView(hash)).toEqual(view);
  });

  it('keeps the plain address for the defaults, and ignores what it does not know', () => {
    expect(viewHash(DEFAULT_VIEW)).toBe('#/devices');
    expect(parseView('#/devices')).toEqual(DEFAULT_VIEW);
    expect(parseView('#/devices?status=sleeping&sort=size&label=')).toEqual(DEFAULT_VIEW);
  });

  it('changes the view in place, and never writes the list back under another page', () => {
    expect(viewChange('#/devices', { status: 'offline' })).toEqual({
      view: { ...DEFAULT_VIEW, status: 'offline' },
      address: '#/devices?status=offline',
    });
    // The debounced search box repeating what the address already says writes nothing.
    expect(viewChange('#/devices?q=pump', { search: 'pump' })).toEqual({
      view: { ...DEFAULT_VIEW, search: 'pump' },
      address: null,
    });
    // The user has moved on (its hashchange may still be queued): the list keeps its hands off the address.
    expect(viewChange('#/', { search: '' })).toBeNull();
    expect(viewChange('#/devices/abc', { search: 'pump' })).toBeNull();
  });
});
