import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DEVICES, expectProblem, sleep, UNKNOWN_ID, validationFields } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('one device: get, update, delete', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  async function insertTelemetry(deviceId: string, count: number): Promise<void> {
    await hub.database.client.sql`
      INSERT INTO telemetry (time, device_id, metric, value)
      SELECT now() - make_interval(secs => n), ${deviceId}::uuid, 'temperature', 20 + n
      FROM generate_series(1, ${count}::int) AS n`;
  }

  async function telemetryCount(deviceId: string): Promise<number> {
    const [row] = await hub.database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${deviceId}`;
    return row!.count;
  }

  describe('GET /api/v1/devices/:id', () => {
    it('returns the device as it was created, without its token', async () => {
      const { token, ...device } = await createDevice(hub, { name: 'getter', labels: ['g'], metadata: { a: 1 } });
      const response = await hub.api('GET', `${DEVICES}/${device.id}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject(device);
      expect(response.text).not.toContain(token);
    });

    it('answers 404 device_not_found for an unknown id', async () => {
      const problem = expectProblem(await hub.api('GET', `${DEVICES}/${UNKNOWN_ID}`), 404, 'device_not_found');
      expect(problem.detail).toContain(UNKNOWN_ID);
      expect(problem.instance).toBe(`${DEVICES}/${UNKNOWN_ID}`);
    });

    it.each(['not-a-uuid', '12345', `${UNKNOWN_ID}x`])('answers 400 naming deviceId for the id %j', async (id) => {
      expect(validationFields(await hub.api('GET', `${DEVICES}/${id}`))).toEqual(['deviceId']);
    });
  });

  describe('PATCH /api/v1/devices/:id', () => {
    it('changes only the fields given, and advances updatedAt', async () => {
      const created = await createDevice(hub, { name: 'old-name', labels: ['keep'], metadata: { keep: true } });
      await sleep(5);

      const response = await hub.api('PATCH', `${DEVICES}/${created.id}`, { body: { name: '  new-name ' } });

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: created.id,
        name: 'new-name',
        labels: ['keep'],
        metadata: { keep: true },
        disabled: false,
        createdAt: created.createdAt,
      });
      expect(response.body).not.toHaveProperty('token');
      expect(Date.parse(response.body.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
      expect((await hub.api('GET', `${DEVICES}/${created.id}`)).body).toMatchObject({
        name: 'new-name',
        updatedAt: response.body.updatedAt,
      });
    });

    it('replaces labels and metadata as a whole', async () => {
      const created = await createDevice(hub, { name: 'relabel', labels: ['a', 'b'], metadata: { x: 1, y: 2 } });
      const response = await hub.api('PATCH', `${DEVICES}/${created.id}`, {
        body: { labels: ['c'], metadata: { z: { deep: [1] } } },
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ name: 'relabel', labels: ['c'], metadata: { z: { deep: [1] } } });

      const cleared = await hub.api('PATCH', `${DEVICES}/${created.id}`, { body: { labels: [], metadata: {} } });
      expect(cleared.body).toMatchObject({ labels: [], metadata: {} });
      const byLabel = await hub.api('GET', `${DEVICES}?label=a`);
      expect(byLabel.body.items.map((d: { id: string }) => d.id)).not.toContain(created.id);
    });

    it('disables and re-enables a device', async () => {
      const created = await createDevice(hub, { name: 'toggle' });
      const disabled = await hub.api('PATCH', `${DEVICES}/${created.id}`, { body: { disabled: true } });
      expect(disabled.body.disabled).toBe(true);
      expect((await hub.api('GET', `${DEVICES}/${created.id}`)).body.disabled).toBe(true);
      const enabled = await hub.api('PATCH', `${DEVICES}/${created.id}`, { body: { disabled: false } });
      expect(enabled.body.disabled).toBe(false);
    });

    it('answers 400 naming the fields, and changes nothing, for an invalid patch', async () => {
      const created = await createDevice(hub, { name: 'stable' });
      const response = await hub.api('PATCH', `${DEVICES}/${created.id}`, {
        body: { name: '', disabled: 'yes', labels: ['bad label'], token: 'thd_x' },
      });
      expect(validationFields(response)).toEqual(['disabled', 'labels.0', 'name', 'token']);
      expect((await hub.api('GET', `${DEVICES}/${created.id}`)).body).toMatchObject({
        name: 'stable',
        disabled: false,
        updatedAt: created.updatedAt,
      });
    });

    it('answers 404 for an unknown device and 400 for a non-UUID id', async () => {
      expectProblem(
        await hub.api('PATCH', `${DEVICES}/${UNKNOWN_ID}`, { body: { name: 'x' } }),
        404,
        'device_not_found',
      );
      expect(validationFields(await hub.api('PATCH', `${DEVICES}/nope`, { body: { name: 'x' } }))).toEqual([
        'deviceId',
      ]);
    });
  });

  describe('DELETE /api/v1/devices/:id', () => {
    it('answers 204 with no body; afterwards the device, its tokens and its routes are gone', async () => {
      const created = await createDevice(hub, { name: 'doomed' });
      const other = await createDevice(hub, { name: 'survivor' });

      const response = await hub.api('DELETE', `${DEVICES}/${created.id}`);
      expect(response.status).toBe(204);
      expect(response.text).toBe('');

      expectProblem(await hub.api('GET', `${DEVICES}/${created.id}`), 404, 'device_not_found');
      expectProblem(await hub.api('DELETE', `${DEVICES}/${created.id}`), 404, 'device_not_found');
      expectProblem(await hub.api('GET', `${DEVICES}/${created.id}/tokens`), 404, 'device_not_found');
      expectProblem(await hub.api('POST', `${DEVICES}/${created.id}/tokens`, { body: {} }), 404, 'device_not_found');
      const [tokens] = await hub.database.client.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM device_tokens WHERE device_id = ${created.id}`;
      expect(tokens!.count).toBe(0);
      expect((await hub.api('GET', `${DEVICES}/${other.id}`)).status).toBe(200);
    });

    it('keeps the telemetry of a deleted device by default', async () => {
      const created = await createDevice(hub, { name: 'keeps-history' });
      await insertTelemetry(created.id, 3);
      expect(await telemetryCount(created.id)).toBe(3);

      expect((await hub.api('DELETE', `${DEVICES}/${created.id}?purgeTelemetry=false`)).status).toBe(204);
      expect(await telemetryCount(created.id)).toBe(3);
    });

    it("purges the device's telemetry, and only its own, with ?purgeTelemetry=true", async () => {
      const doomed = await createDevice(hub, { name: 'purged' });
      const neighbour = await createDevice(hub, { name: 'neighbour' });
      await insertTelemetry(doomed.id, 4);
      await insertTelemetry(neighbour.id, 2);

      expect((await hub.api('DELETE', `${DEVICES}/${doomed.id}?purgeTelemetry=true`)).status).toBe(204);
      expect(await telemetryCount(doomed.id)).toBe(0);
      expect(await telemetryCount(neighbour.id)).toBe(2);
    });

    it('answers 400, and deletes nothing, for a purgeTelemetry that is not true or false', async () => {
      const created = await createDevice(hub, { name: 'unsure' });
      await insertTelemetry(created.id, 1);
      const response = await hub.api('DELETE', `${DEVICES}/${created.id}?purgeTelemetry=yes`);
      expect(validationFields(response)).toEqual(['purgeTelemetry']);
      expect((await hub.api('GET', `${DEVICES}/${created.id}`)).status).toBe(200);
      expect(await telemetryCount(created.id)).toBe(1);
    });

    it('answers 400 for a non-UUID id', async () => {
      expect(validationFields(await hub.api('DELETE', `${DEVICES}/not-a-uuid`))).toEqual(['deviceId']);
    });
  });

  describe('GET /api/v1/devices/:id/events', () => {
    /** Events at the given ages (seconds before now); equal ages share one time, told apart by id. */
    async function insertEvents(deviceId: string, ages: number[]): Promise<void> {
      const sql = hub.database.client.sql;
      // One base time for every row: each statement's own now() may fall in the next second, and then events
      // meant to share a time would not.
      const [row] = await sql<{ base: Date }[]>`SELECT date_trunc('second', now()) AS base`;
      const base = row!.base;
      for (const [index, age] of ages.entries()) {
        await sql`INSERT INTO device_events (device_id, time, type, detail)
          VALUES (${deviceId}, ${base}::timestamptz - make_interval(secs => ${age}), 'test', ${JSON.stringify({ index })}::jsonb)`;
      }
    }

    it('refuses an unknown parameter, a malformed or foreign cursor and a limit out of range (400)', async () => {
      const device = await createDevice(hub, { name: 'events-refusals' });
      const other = await createDevice(hub, { name: 'events-other' });
      await insertEvents(other.id, [1]);
      const [foreign] = (await hub.api('GET', `${DEVICES}/${other.id}/events`)).body;
      const events = `${DEVICES}/${device.id}/events`;
      expect(validationFields(await hub.api('GET', `${events}?cursor=abc`))).toEqual(['cursor']);
      expect(validationFields(await hub.api('GET', `${events}?cursor=${foreign.id}`))).toEqual(['cursor']);
      expect(validationFields(await hub.api('GET', `${events}?foo=1`))).toEqual(['foo']);
      expect(validationFields(await hub.api('GET', `${events}?limit=0`))).toEqual(['limit']);
      expect(validationFields(await hub.api('GET', `${events}?limit=501`))).toEqual(['limit']);
      expect(validationFields(await hub.api('GET', `${events}?limit=2&limit=3`))).toEqual(['limit']);
      expect((await hub.api('GET', `${events}?limit=500`)).status).toBe(200);
      expectProblem(await hub.api('GET', `${DEVICES}/${UNKNOWN_ID}/events`), 404, 'device_not_found');
    });

    it('pages newest first with cursor = the id of the last event, across events that share a time', async () => {
      const device = await createDevice(hub, { name: 'events-pages' });
      // Ages 5, 1, 3, 3, 3, 2, 4: three events share one time.
      await insertEvents(device.id, [5, 1, 3, 3, 3, 2, 4]);
      const first = await hub.api('GET', `${DEVICES}/${device.id}/events`);
      expect(first.status).toBe(200);
      const all = first.body.map((event: { detail: { index: number } }) => event.detail.index);
      expect(all).toEqual([1, 5, 4, 3, 2, 6, 0]);

      const paged: number[] = [];
      let cursor: number | undefined;
      for (let page = 0; page < 5; page += 1) {
        const query = cursor === undefined ? '?limit=2' : `?limit=2&cursor=${cursor}`;
        const response = await hub.api('GET', `${DEVICES}/${device.id}/events${query}`);
        expect(response.status, response.text).toBe(200);
        paged.push(...response.body.map((event: { detail: { index: number } }) => event.detail.index));
        if (response.body.length < 2) break;
        cursor = response.body.at(-1).id;
      }
      expect(paged).toEqual(all);
    });
  });
});
