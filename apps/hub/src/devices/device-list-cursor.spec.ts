import { describe, expect, it } from 'vitest';
import { decodeDeviceCursor, deviceOrder, encodeDeviceCursor } from './device-list-cursor.js';

const ID = '0196a3c1-7f00-7abc-8def-0123456789ab';

describe('device list cursors', () => {
  it('is the last id for creation order, either way', () => {
    expect(encodeDeviceCursor('created', { sort: 'created', id: ID })).toBe(ID);
    expect(decodeDeviceCursor('-created', ID)).toEqual({ sort: 'created', id: ID });
    expect(decodeDeviceCursor('created', 'page-2')).toBeUndefined();
  });

  it('round-trips names (any text) and last-seen times (microseconds, or never seen)', () => {
    const positions = [
      { sort: 'name', name: 'pump "4" / ü', id: ID },
      { sort: 'lastSeen', lastSeenUs: '1777630000123456', id: ID },
      { sort: 'lastSeen', lastSeenUs: null, id: ID },
    ] as const;
    for (const position of positions) {
      for (const sort of [position.sort, `-${position.sort}`] as const) {
        const cursor = encodeDeviceCursor(sort, position);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeDeviceCursor(sort, cursor)).toEqual(position);
      }
    }
  });

  it('refuses a cursor of another order, a mangled one, and a bad id or time', () => {
    const byName = encodeDeviceCursor('name', { sort: 'name', name: 'a', id: ID });
    expect(decodeDeviceCursor('-name', byName)).toBeUndefined();
    expect(decodeDeviceCursor('lastSeen', byName)).toBeUndefined();
    expect(decodeDeviceCursor('name', ID)).toBeUndefined();
    expect(decodeDeviceCursor('name', `${byName}x`)).toBeUndefined();
    const token = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    expect(decodeDeviceCursor('name', token(['name', 'a', 'not-a-uuid']))).toBeUndefined();
    expect(decodeDeviceCursor('name', token(['name', 5, ID]))).toBeUndefined();
    expect(decodeDeviceCursor('lastSeen', token(['lastSeen', '1.5', ID]))).toBeUndefined();
    expect(decodeDeviceCursor('lastSeen', token(['lastSeen', 1777630000123456, ID]))).toBeUndefined();
    expect(decodeDeviceCursor('lastSeen', token({ sort: 'lastSeen' }))).toBeUndefined();
  });

  it('splits a sort into its key and direction', () => {
    expect(deviceOrder('-lastSeen')).toEqual({ key: 'lastSeen', descending: true });
    expect(deviceOrder('name')).toEqual({ key: 'name', descending: false });
  });
});
