import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DEVICES, UNKNOWN_ID, validationFields } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

interface Listed {
  id: string;
  name: string;
}

describe('GET /api/v1/devices', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  /** GET /api/v1/devices with these query parameters (repeated for arrays). */
  async function list(query: Record<string, string | number | string[]>) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
    }
    return hub.api('GET', `${DEVICES}?${params}`);
  }

  async function names(query: Record<string, string | number | string[]>): Promise<string[]> {
    const response = await list(query);
    expect(response.status, response.text).toBe(200);
    return response.body.items.map((device: Listed) => device.name);
  }

  /** Follows nextCursor to the end; returns each page's devices. */
  async function allPages(query: Record<string, string | number | string[]>): Promise<Listed[][]> {
    const pages: Listed[][] = [];
    let cursor: string | null = null;
    do {
      const response = await list(cursor ? { ...query, cursor } : query);
      expect(response.status, response.text).toBe(200);
      pages.push(response.body.items);
      cursor = response.body.nextCursor;
      if (cursor !== null) expect(cursor).toBe(response.body.items.at(-1).id);
    } while (cursor !== null && pages.length < 20);
    return pages;
  }

  it('pages through 7 devices 3 at a time, in creation order, without repeats', async () => {
    const created: string[] = [];
    for (let i = 1; i <= 7; i++) created.push((await createDevice(hub, { name: `page-${i}`, labels: ['paging'] })).id);

    const pages = await allPages({ label: 'paging', limit: 3 });

    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((device) => device.id)).toEqual(created);
  });

  it('ends with nextCursor null, not an empty page, when the last page is full', async () => {
    for (let i = 1; i <= 6; i++) await createDevice(hub, { name: `even-${i}`, labels: ['even-paging'] });
    const pages = await allPages({ label: 'even-paging', limit: 3 });
    expect(pages.map((page) => page.length)).toEqual([3, 3]);
  });

  it('continues after a cursor whose device was deleted meanwhile', async () => {
    for (let i = 1; i <= 4; i++) await createDevice(hub, { name: `gone-${i}`, labels: ['cursor-deleted'] });
    const first = await list({ label: 'cursor-deleted', limit: 2 });
    expect(first.body.items.map((d: Listed) => d.name)).toEqual(['gone-1', 'gone-2']);

    expect((await hub.api('DELETE', `${DEVICES}/${first.body.nextCursor}`)).status).toBe(204);
    const second = await list({ label: 'cursor-deleted', limit: 2, cursor: first.body.nextCursor });
    expect(second.body.items.map((d: Listed) => d.name)).toEqual(['gone-3', 'gone-4']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('lists bulk-created devices in the order of the request', async () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ name: `bulk-order-${40 - i}`, labels: ['bulk-order'] }));
    const bulk = await hub.api('POST', `${DEVICES}/bulk`, { body: entries });
    expect(bulk.status).toBe(201);

    const pages = await allPages({ label: 'bulk-order', limit: 15 });
    expect(pages.flat().map((device) => device.name)).toEqual(entries.map((entry) => entry.name));
    expect(pages.flat().map((device) => device.id)).toEqual(bulk.body.map((device: Listed) => device.id));
  });

  it('filters by one label, and by several labels that must all match', async () => {
    await createDevice(hub, { name: 'red-only', labels: ['f-red'] });
    await createDevice(hub, { name: 'red-and-blue', labels: ['f-blue', 'f-red', 'other'] });
    await createDevice(hub, { name: 'blue-only', labels: ['f-blue'] });
    await createDevice(hub, { name: 'no-labels' });

    expect(await names({ label: 'f-red' })).toEqual(['red-only', 'red-and-blue']);
    expect(await names({ label: 'f-blue' })).toEqual(['red-and-blue', 'blue-only']);
    expect(await names({ label: ['f-red', 'f-blue'] })).toEqual(['red-and-blue']);
    expect(await names({ label: ['f-red', 'f-green'] })).toEqual([]);
    expect(await names({ label: 'f-re' })).toEqual([]);
  });

  it('filters by name prefix, case-sensitively, combined with labels', async () => {
    for (const name of ['pump-1', 'pump-2', 'pumpkin', 'Pump-3', 'heat-pump-4']) {
      await createDevice(hub, { name, labels: name === 'pump-2' ? ['np-tagged'] : [] });
    }
    expect(await names({ namePrefix: 'pump-' })).toEqual(['pump-1', 'pump-2']);
    expect(await names({ namePrefix: 'pump' })).toEqual(['pump-1', 'pump-2', 'pumpkin']);
    expect(await names({ namePrefix: 'pump-', label: 'np-tagged' })).toEqual(['pump-2']);
  });

  it('treats % and _ and \\ in the name prefix literally', async () => {
    for (const name of ['50%off', '50Xoff', 'a_b', 'aXb', 'c\\d', 'cXd']) await createDevice(hub, { name });

    expect(await names({ namePrefix: '50%' })).toEqual(['50%off']);
    expect(await names({ namePrefix: 'a_' })).toEqual(['a_b']);
    expect(await names({ namePrefix: 'c\\' })).toEqual(['c\\d']);
    expect(await names({ namePrefix: '%' })).toEqual([]);
    expect(await names({ namePrefix: '_' })).toEqual([]);
  });

  it('accepts a limit of 1000, and a cursor that matches no device', async () => {
    expect((await list({ limit: 1000 })).status).toBe(200);
    const past = await list({ cursor: 'ffffffff-ffff-7fff-bfff-ffffffffffff' });
    expect(past.body).toEqual({ items: [], nextCursor: null, totals: expect.any(Object) });
    expect((await list({ cursor: UNKNOWN_ID })).status).toBe(200);
  });

  describe('answers 400 for bad query parameters', () => {
    const cases: [string, Record<string, string | string[]>, string[]][] = [
      ['limit=0', { limit: '0' }, ['limit']],
      ['limit=-1', { limit: '-1' }, ['limit']],
      ['limit over 1000', { limit: '1001' }, ['limit']],
      ['a fractional limit', { limit: '2.5' }, ['limit']],
      ['a non-numeric limit', { limit: 'ten' }, ['limit']],
      ['a cursor that is not a UUID', { cursor: 'page-2' }, ['cursor']],
      ['a label with bad characters', { label: 'has space' }, ['label']],
      ['an empty name prefix', { namePrefix: '' }, ['namePrefix']],
      ['a name prefix with a NUL character', { namePrefix: 'a\u0000' }, ['namePrefix']],
      ['two name prefixes', { namePrefix: ['a', 'b'] }, ['namePrefix']],
      ['an unknown parameter', { order: 'name' }, ['order']],
    ];

    it.each(cases)('%s', async (_title, query, fields) => {
      expect(validationFields(await list(query))).toEqual(fields);
    });
  });
});
