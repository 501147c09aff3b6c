import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('provisioning API walk-through', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('creates, lists, rotates, revokes and deletes a device', async () => {
    const created = await hub.api('POST', '/api/v1/devices', {
      body: { name: 'greenhouse-1', labels: ['greenhouse'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^thd_/);
    const id = created.body.id as string;

    const listed = await hub.api('GET', '/api/v1/devices?label=greenhouse');
    expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual([id]);

    const rotated = await hub.api('POST', `/api/v1/devices/${id}/tokens`, { body: { expireOthersInSeconds: 60 } });
    expect(rotated.status).toBe(201);
    const tokens = await hub.api('GET', `/api/v1/devices/${id}/tokens`);
    expect(tokens.body).toHaveLength(2);
    const old = tokens.body.find((t: { id: string }) => t.id !== rotated.body.id);
    expect(new Date(old.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(JSON.stringify(tokens.body)).not.toContain(created.body.token);

    const revoked = await hub.api('DELETE', `/api/v1/devices/${id}/tokens/${old.id}`);
    expect(revoked.body).toMatchObject({ id: old.id, active: false });

    expect((await hub.api('DELETE', `/api/v1/devices/${id}`)).status).toBe(204);
    const gone = await hub.api('GET', `/api/v1/devices/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(gone.body.code).toBe('device_not_found');
  });
});
