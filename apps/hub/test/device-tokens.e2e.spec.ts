import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANY_TOKEN,
  createDevice,
  DEVICE_TOKEN,
  DEVICES,
  expectProblem,
  sha256,
  UNKNOWN_ID,
  UUID,
  validationFields,
} from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

interface TokenInfo {
  id: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  active: boolean;
}

const HOUR_MS = 3_600_000;

describe('device tokens', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  const tokensOf = (deviceId: string) => `${DEVICES}/${deviceId}/tokens`;

  async function listTokens(deviceId: string): Promise<TokenInfo[]> {
    const response = await hub.api('GET', tokensOf(deviceId));
    expect(response.status, response.text).toBe(200);
    return response.body;
  }

  /** The listed token whose hint ends like this secret. */
  function byToken(tokens: TokenInfo[], token: string): TokenInfo {
    const found = tokens.filter((info) => info.hint === `thd_…${token.slice(-4)}`);
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  describe('POST /api/v1/devices/:id/tokens', () => {
    it('issues a second token: 201, shown once, never in the list', async () => {
      const device = await createDevice(hub, { name: 'rotating' });
      const response = await hub.api('POST', tokensOf(device.id), { body: {} });

      expect(response.status).toBe(201);
      const issued = response.body;
      expect(issued).toMatchObject({
        id: expect.stringMatching(UUID),
        token: expect.stringMatching(DEVICE_TOKEN),
        hint: `thd_…${issued.token.slice(-4)}`,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
        active: true,
      });
      expect(issued.token).not.toBe(device.token);
      const [row] = await hub.database.client.sql<{ token_hash: Buffer }[]>`
        SELECT token_hash FROM device_tokens WHERE id = ${issued.id}`;
      expect(row!.token_hash.equals(sha256(issued.token))).toBe(true);

      const listed = await hub.api('GET', tokensOf(device.id));
      expect(listed.body).toHaveLength(2);
      expect(listed.text).not.toContain(issued.token);
      expect(listed.text).not.toContain(device.token);
      expect(listed.text).not.toMatch(ANY_TOKEN);
      for (const info of listed.body) {
        expect(info).not.toHaveProperty('token');
        expect(info.hint).toMatch(/^thd_…[A-Za-z0-9_-]{4}$/);
      }
      expect(listed.body[0]).toEqual({ ...issued, token: undefined });
      expect(byToken(listed.body, device.token).active).toBe(true);
    });

    it('issues a token without any body at all', async () => {
      const device = await createDevice(hub, { name: 'no-body' });
      const response = await hub.api('POST', tokensOf(device.id));
      expect(response.status).toBe(201);
      expect(response.body.token).toMatch(DEVICE_TOKEN);
    });

    it('sets expiresAt when given, normalised to UTC', async () => {
      const device = await createDevice(hub, { name: 'expiring' });
      const inTwoDays = Math.floor((Date.now() + 48 * HOUR_MS) / 1000) * 1000;
      // The same instant as wall-clock time two hours ahead of UTC.
      const withOffset = `${new Date(inTwoDays + 2 * HOUR_MS).toISOString().slice(0, 19)}+02:00`;
      const response = await hub.api('POST', tokensOf(device.id), { body: { expiresAt: withOffset } });

      expect(response.status, response.text).toBe(201);
      expect(response.body.expiresAt).toBe(new Date(inTwoDays).toISOString());
      expect(response.body.active).toBe(true);
    });

    it.each([
      ['in the past', new Date(Date.now() - 60_000).toISOString()],
      ['not a date', 'tomorrow'],
      ['without a time zone', '2099-01-01T00:00:00'],
    ])('answers 400 naming expiresAt when it is %s, and issues nothing', async (_title, expiresAt) => {
      const device = await createDevice(hub, { name: 'bad-expiry' });
      const response = await hub.api('POST', tokensOf(device.id), { body: { expiresAt } });
      expect(validationFields(response)).toEqual(['expiresAt']);
      expect(await listTokens(device.id)).toHaveLength(1);
    });

    it.each([
      [{ expireOthersInSeconds: -1 }, ['expireOthersInSeconds']],
      [{ expireOthersInSeconds: 1.5 }, ['expireOthersInSeconds']],
      [{ expireOthersInSeconds: '60' }, ['expireOthersInSeconds']],
      [{ expireOthersInSeconds: 366 * 24 * 3600 }, ['expireOthersInSeconds']],
      [{ name: 'x' }, ['name']],
    ])('answers 400 for %j', async (body, fields) => {
      const device = await createDevice(hub, { name: 'bad-rotation' });
      expect(validationFields(await hub.api('POST', tokensOf(device.id), { body }))).toEqual(fields);
    });

    it('with expireOthersInSeconds: 0, makes every other token inactive at once', async () => {
      const device = await createDevice(hub, { name: 'hard-rotation' });
      const second = (await hub.api('POST', tokensOf(device.id), { body: {} })).body;
      const third = (await hub.api('POST', tokensOf(device.id), { body: { expireOthersInSeconds: 0 } })).body;
      expect(third.active).toBe(true);

      const tokens = await listTokens(device.id);
      expect(tokens.map((info) => [info.id, info.active])).toEqual(
        expect.arrayContaining([
          [third.id, true],
          [second.id, false],
          [byToken(tokens, device.token).id, false],
        ]),
      );
      for (const info of tokens.filter((t) => t.id !== third.id)) {
        expect(info.revokedAt).toBeNull();
        expect(Date.parse(info.expiresAt!)).toBeLessThanOrEqual(Date.now());
      }
    });

    it('with expireOthersInSeconds: 3600, keeps the others working for an hour (or less, if they expire sooner)', async () => {
      const device = await createDevice(hub, { name: 'soft-rotation' });
      const soon = new Date(Date.now() + 10 * 60_000).toISOString();
      const shortLived = (await hub.api('POST', tokensOf(device.id), { body: { expiresAt: soon } })).body;
      const other = await createDevice(hub, { name: 'bystander' });

      const before = Date.now();
      const fresh = (await hub.api('POST', tokensOf(device.id), { body: { expireOthersInSeconds: 3600 } })).body;

      const tokens = await listTokens(device.id);
      const original = byToken(tokens, device.token);
      expect(original.active).toBe(true);
      expect(Date.parse(original.expiresAt!)).toBeGreaterThanOrEqual(before + HOUR_MS - 1000);
      expect(Date.parse(original.expiresAt!)).toBeLessThanOrEqual(Date.now() + HOUR_MS + 1000);
      expect(tokens.find((t) => t.id === shortLived.id)!.expiresAt).toBe(shortLived.expiresAt);
      expect(tokens.find((t) => t.id === fresh.id)!.expiresAt).toBeNull();
      expect((await listTokens(other.id))[0]).toMatchObject({ expiresAt: null, active: true });
    });

    it('answers 404 device_not_found for an unknown device, 400 for a non-UUID one', async () => {
      expectProblem(await hub.api('POST', tokensOf(UNKNOWN_ID), { body: {} }), 404, 'device_not_found');
      expect(validationFields(await hub.api('POST', tokensOf('abc'), { body: {} }))).toEqual(['deviceId']);
    });
  });

  describe('GET /api/v1/devices/:id/tokens', () => {
    it('lists hints only, newest first', async () => {
      const device = await createDevice(hub, { name: 'listed' });
      const issued = [];
      for (let i = 0; i < 3; i++) issued.push((await hub.api('POST', tokensOf(device.id), { body: {} })).body);

      const tokens = await listTokens(device.id);
      expect(tokens.map((info) => info.hint)).toEqual(
        [...issued.reverse().map((t) => t.token), device.token].map((token) => `thd_…${token.slice(-4)}`),
      );
    });

    it('answers 404 for an unknown device, 400 for a non-UUID one', async () => {
      expectProblem(await hub.api('GET', tokensOf(UNKNOWN_ID)), 404, 'device_not_found');
      expect(validationFields(await hub.api('GET', tokensOf('abc')))).toEqual(['deviceId']);
    });
  });

  describe('DELETE /api/v1/devices/:id/tokens/:tokenId', () => {
    it('revokes a token: active false, revokedAt set, and the list agrees', async () => {
      const device = await createDevice(hub, { name: 'revoking' });
      const keep = (await hub.api('POST', tokensOf(device.id), { body: {} })).body;
      const target = byToken(await listTokens(device.id), device.token);

      const response = await hub.api('DELETE', `${tokensOf(device.id)}/${target.id}`);

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: target.id, hint: target.hint, active: false });
      expect(Math.abs(Date.parse(response.body.revokedAt) - Date.now())).toBeLessThan(60_000);
      expect(response.body).not.toHaveProperty('token');
      const tokens = await listTokens(device.id);
      expect(tokens.find((t) => t.id === target.id)).toMatchObject({
        active: false,
        revokedAt: response.body.revokedAt,
      });
      expect(tokens.find((t) => t.id === keep.id)).toMatchObject({ active: true, revokedAt: null });
    });

    it('answers 409 token_already_revoked when revoking again, keeping the first revokedAt', async () => {
      const device = await createDevice(hub, { name: 'twice' });
      const target = (await listTokens(device.id))[0]!;
      const first = await hub.api('DELETE', `${tokensOf(device.id)}/${target.id}`);
      expect(first.status).toBe(200);

      const problem = expectProblem(
        await hub.api('DELETE', `${tokensOf(device.id)}/${target.id}`),
        409,
        'token_already_revoked',
      );
      expect(problem.detail).toContain(target.id);
      expect((await listTokens(device.id))[0]!.revokedAt).toBe(first.body.revokedAt);
    });

    it('answers 404 token_not_found for an unknown token id', async () => {
      const device = await createDevice(hub, { name: 'no-such-token' });
      expectProblem(await hub.api('DELETE', `${tokensOf(device.id)}/${UNKNOWN_ID}`), 404, 'token_not_found');
    });

    it("answers 404 token_not_found for another device's token, which stays active", async () => {
      const mine = await createDevice(hub, { name: 'mine' });
      const theirs = await createDevice(hub, { name: 'theirs' });
      const theirToken = (await listTokens(theirs.id))[0]!;

      const response = await hub.api('DELETE', `${tokensOf(mine.id)}/${theirToken.id}`);

      expectProblem(response, 404, 'token_not_found');
      expect((await listTokens(theirs.id))[0]).toMatchObject({ id: theirToken.id, active: true, revokedAt: null });
    });

    it('answers 404 device_not_found for an unknown device, 400 naming tokenId for a non-UUID token id', async () => {
      const device = await createDevice(hub, { name: 'bad-token-id' });
      expectProblem(await hub.api('DELETE', `${tokensOf(UNKNOWN_ID)}/${UNKNOWN_ID}`), 404, 'device_not_found');
      expect(validationFields(await hub.api('DELETE', `${tokensOf(device.id)}/xyz`))).toEqual(['tokenId']);
    });
  });
});
