import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DEVICES, validationFields } from './support/api-assertions.js';
import { eventually } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

interface Listed {
  id: string;
  name: string;
  status: string;
  lastSeenAt: string | null;
  latest?: Record<string, { value: number; time: string }>;
}

type Query = Record<string, string | number | string[]>;

// The list API for a fleet: substring search, status filters, totals, three sort orders with keyset pages, and
// latest values in the page. Presence columns are set in SQL here (the presence tests drive them with devices).
describe('GET /api/v1/devices for a fleet', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  async function list(query: Query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
    }
    return hub.api('GET', `${DEVICES}?${params}`);
  }

  async function names(query: Query): Promise<string[]> {
    const response = await list(query);
    expect(response.status, response.text).toBe(200);
    return response.body.items.map((device: Listed) => device.name);
  }

  /** Follows nextCursor to the end; returns the devices in order, checking no page repeats one. */
  async function allPages(query: Query): Promise<Listed[]> {
    const seen: Listed[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 30; page += 1) {
      const response = await list(cursor ? { ...query, cursor } : query);
      expect(response.status, response.text).toBe(200);
      seen.push(...response.body.items);
      cursor = response.body.nextCursor;
      if (cursor === null) return seen;
      expect(response.body.items).toHaveLength(Number(query.limit));
    }
    throw new Error('more than 30 pages');
  }

  async function setPresence(id: string, columns: { online?: boolean; active?: boolean; lastSeen?: string | null }) {
    const sql = hub.database.client.sql;
    await sql`UPDATE devices SET online = ${columns.online ?? false}, active = ${columns.active ?? false}
      WHERE id = ${id}`;
    await sql`UPDATE device_last_seen SET last_seen_at = ${columns.lastSeen ?? null}::timestamptz
      WHERE device_id = ${id}`;
  }

  it('finds a name or id substring anywhere, ignoring case, and literally', async () => {
    const labels = ['search'];
    const made = [];
    for (const name of ['greenhouse-04', 'Hall-04B', 'x-40', 'pump_1', 'pumpX1', '100%'])
      made.push(await createDevice(hub, { name, labels }));

    expect(await names({ label: 'search', search: '-04' })).toEqual(['greenhouse-04', 'Hall-04B']);
    expect(await names({ label: 'search', search: 'hall-04b' })).toEqual(['Hall-04B']);
    expect(await names({ label: 'search', search: 'p_1' })).toEqual(['pump_1']);
    expect(await names({ label: 'search', search: '%' })).toEqual(['100%']);
    // A piece from the middle of an id (the part after the time, which tells devices made together apart).
    const target = made[2]!;
    const piece = target.id.slice(24, 32).toUpperCase();
    expect(await names({ search: piece })).toEqual(['x-40']);
    expect(await names({ search: target.id })).toEqual(['x-40']);
  });

  it('filters by status and counts every matching device per status, not only the page', async () => {
    const labels = ['status-mix'];
    const [connected, active, offline] = [
      await createDevice(hub, { name: 'st-connected', labels }),
      await createDevice(hub, { name: 'st-active', labels }),
      await createDevice(hub, { name: 'st-offline-a', labels }),
    ];
    await createDevice(hub, { name: 'st-offline-b', labels }); // never seen
    await setPresence(connected.id, { online: true, active: true, lastSeen: '2026-01-01T00:00:00Z' });
    await setPresence(active.id, { active: true, lastSeen: '2026-01-01T00:00:00Z' });
    await setPresence(offline.id, { lastSeen: '2025-01-01T00:00:00Z' });

    const all = await list({ label: 'status-mix', limit: 1 });
    expect(all.body.items).toHaveLength(1);
    expect(all.body.totals).toEqual({ matching: 4, connected: 1, active: 1, offline: 2 });

    expect(await names({ label: 'status-mix', status: 'connected' })).toEqual(['st-connected']);
    expect(await names({ label: 'status-mix', status: 'active' })).toEqual(['st-active']);
    expect(await names({ label: 'status-mix', status: 'offline' })).toEqual(['st-offline-a', 'st-offline-b']);
    const online = await list({ label: 'status-mix', status: ['connected', 'active'] });
    expect(online.body.items.map((device: Listed) => [device.name, device.status])).toEqual([
      ['st-connected', 'connected'],
      ['st-active', 'active'],
    ]);
    // The per-status counts ignore the status filter (they label the filter's choices); matching does not.
    expect(online.body.totals).toEqual({ matching: 2, connected: 1, active: 1, offline: 2 });
    const searched = await list({ label: 'status-mix', search: 'offline', status: 'offline' });
    expect(searched.body.totals).toEqual({ matching: 2, connected: 0, active: 0, offline: 2 });
  });

  it('counts the whole fleet without filters as the fleet summary does, new devices included', async () => {
    const fleetTotals = async () => {
      const [page, summary] = await Promise.all([list({ limit: 1 }), hub.api('GET', '/api/v1/fleet/summary')]);
      return { list: page.body.totals, summary: summary.body };
    };
    const before = await fleetTotals();
    await createDevice(hub, { name: 'one-more' });
    // Unfiltered counts read every device: they are shared for up to a second, then counted again.
    const after = await eventually(async () => {
      const totals = await fleetTotals();
      return totals.list.matching === before.list.matching + 1 ? totals : undefined;
    });
    expect(after!.list).toEqual({
      matching: after!.summary.devices,
      connected: after!.summary.online,
      active: after!.summary.active,
      offline: after!.summary.devices - after!.summary.online - after!.summary.active,
    });
  });

  it('pages through every sort order without a repeat or a gap, ties broken by id', async () => {
    const labels = ['sorting'];
    // Last-seen times with a tie, one a microsecond apart from another, and two devices never seen.
    const specs: [string, string | null][] = [
      ['sort-d', '2026-03-01T10:00:00.000001Z'],
      ['sort-a', '2026-03-01T10:00:00.000002Z'],
      ['sort-f', null],
      ['sort-c', '2026-02-01T00:00:00Z'],
      ['sort-b', '2026-03-01T10:00:00.000001Z'],
      ['sort-g', '2026-04-01T00:00:00Z'],
      ['sort-e', null],
    ];
    const made: { id: string; name: string; lastSeen: string | null }[] = [];
    for (const [name, lastSeen] of specs) {
      const device = await createDevice(hub, { name, labels });
      await setPresence(device.id, { lastSeen });
      made.push({ id: device.id, name, lastSeen });
    }
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    const seenMs = (value: string | null) => (value === null ? Number.NEGATIVE_INFINITY : Date.parse(value));
    const micro = (value: string | null) => (value === null ? -1 : Number(value.slice(20, 26)));
    const expected: Record<string, typeof made> = {
      created: [...made],
      name: [...made].sort((a, b) => a.name.localeCompare(b.name)),
      lastSeen: [...made].sort(
        (a, b) => seenMs(a.lastSeen) - seenMs(b.lastSeen) || micro(a.lastSeen) - micro(b.lastSeen) || byId(a, b),
      ),
    };
    for (const key of ['created', 'name', 'lastSeen']) {
      for (const sort of [key, `-${key}`]) {
        const order = sort.startsWith('-') ? [...expected[key]!].reverse() : expected[key]!;
        for (const limit of [2, 3]) {
          const pages = await allPages({ label: 'sorting', sort, limit });
          expect(
            pages.map((device) => device.name),
            `${sort}, ${limit} per page`,
          ).toEqual(order.map((device) => device.name));
        }
      }
    }
  });

  it('includes the latest value of each metric with latest=true, and nothing without', async () => {
    const device = await createDevice(hub, { name: 'with-latest', labels: ['latest'] });
    await createDevice(hub, { name: 'without-data', labels: ['latest'] });
    const sent = await hub.api('POST', '/api/v1/device/telemetry', {
      rawBody: JSON.stringify({ ts: Date.parse('2026-05-01T12:00:00Z'), temp: 21.5, hum: 40 }),
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
      auth: false,
    });
    expect(sent.status, sent.text).toBe(200);

    const page = await list({ label: 'latest', latest: 'true' });
    expect(page.body.items.map((item: Listed) => [item.name, item.latest])).toEqual([
      [
        'with-latest',
        {
          hum: { value: 40, time: '2026-05-01T12:00:00.000Z' },
          temp: { value: 21.5, time: '2026-05-01T12:00:00.000Z' },
        },
      ],
      ['without-data', {}],
    ]);
    const plain = await list({ label: 'latest' });
    expect(plain.body.items.every((item: Listed) => !('latest' in item))).toBe(true);
  });

  it('refuses a cursor from another sort order or a mangled one (400), naming cursor', async () => {
    for (let i = 0; i < 3; i++) await createDevice(hub, { name: `cursor-${i}`, labels: ['cursor-sort'] });
    const byName = await list({ label: 'cursor-sort', sort: 'name', limit: 1 });
    const cursor = byName.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    expect((await list({ label: 'cursor-sort', sort: 'name', limit: 1, cursor })).status).toBe(200);
    expect(validationFields(await list({ sort: '-name', cursor }))).toEqual(['cursor']);
    expect(validationFields(await list({ sort: 'lastSeen', cursor }))).toEqual(['cursor']);
    expect(validationFields(await list({ sort: 'created', cursor }))).toEqual(['cursor']);
    expect(validationFields(await list({ sort: 'name', cursor: `${cursor}A` }))).toEqual(['cursor']);
    expect(validationFields(await list({ sort: 'name', cursor: byName.body.items[0].id }))).toEqual(['cursor']);
  });

  describe('answers 400 for bad parameters', () => {
    const cases: [string, Query, string[]][] = [
      ['an unknown sort', { sort: 'size' }, ['sort']],
      ['two sorts', { sort: ['name', 'created'] }, ['sort']],
      ['an unknown status', { status: 'online' }, ['status']],
      ['an empty search', { search: '' }, ['search']],
      ['a blank search', { search: '   ' }, ['search']],
      ['a search over 200 characters', { search: 'x'.repeat(201) }, ['search']],
      ['a search with a NUL character', { search: 'a\u0000' }, ['search']],
      ['latest other than true or false', { latest: 'yes' }, ['latest']],
    ];
    it.each(cases)('%s', async (_title, query, fields) => {
      expect(validationFields(await list(query))).toEqual(fields);
    });
  });
});
