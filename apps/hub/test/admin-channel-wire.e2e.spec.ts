import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createAdminToken } from './support/admin-tokens.js';
import { provisionDevice } from './support/devices.js';
import { websocketFrom } from './support/from-address.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const MAX_MESSAGE_BYTES = 4096;
const MAX_SUBSCRIPTIONS = 2;
const JSON_MAX_DEPTH = 8;
const AUTHENTICATE_FIRST = 'authenticate first: {"type":"auth","token":"…"}';
const UNKNOWN_DEVICE = '0196a1f2-7c3e-7a00-8000-0000000000aa';

/**
 * The admin channel's answers to bad input, frame by frame: the exact error frames and close codes and reasons
 * a client gets (docs/admin-protocol.md). Every answer is compared whole, so a change of wording, of the `id`
 * an error names, or of which check comes first shows here.
 */
describe('admin WebSocket channel on the wire', () => {
  let hub: TestHub;
  let viewerToken: string;
  let deviceId: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_ADMIN_WS_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
      TELEHUB_JSON_MAX_DEPTH: String(JSON_MAX_DEPTH),
      TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS: '400',
    });
    viewerToken = (await createAdminToken(hub, { name: 'wall display', role: 'viewer' })).token;
    deviceId = (await provisionDevice(hub, 'wire')).id;
  });
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(() => hub?.close());

  /** A raw `ws` client that records every frame it gets (parsed) and how the connection closed. */
  async function open(headers: Record<string, string> = {}) {
    const ws = new WebSocket(`${hub.baseUrl.replace(/^http/, 'ws')}/v1/admin/ws`, { headers });
    sockets.push(ws);
    const frames: Record<string, unknown>[] = [];
    let notify: () => void = () => undefined;
    ws.on('message', (data, isBinary) => {
      frames.push(isBinary ? { binary: true } : JSON.parse(data.toString()));
      notify();
    });
    ws.on('error', () => undefined);
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    /** The frames after the first `skip`, once a frame of `type` has arrived (or fails after 5 s). */
    const until = (type: string, skip = 0) =>
      new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const check = () => {
          const fresh = frames.slice(skip);
          if (fresh.some((frame) => frame.type === type)) {
            clearTimeout(timer);
            resolve(fresh);
          }
        };
        const timer = setTimeout(() => reject(new Error(`no ${type} frame; got ${JSON.stringify(frames)}`)), 5000);
        notify = check;
        check();
      });
    return { ws, frames, closed, until };
  }

  async function signedIn(token = hub.adminToken!) {
    const client = await open();
    client.ws.send(JSON.stringify({ type: 'auth', token }));
    await client.until('auth_ok');
    return client;
  }

  /**
   * Sends `message`, then a ping: what the message got is every frame before the pong. Only for answers given
   * at once; one that waits (for the database, or a rejected promise) may come after the pong.
   */
  async function answerTo(client: Awaited<ReturnType<typeof open>>, message: string | Buffer) {
    const before = client.frames.length;
    client.ws.send(message, { binary: Buffer.isBuffer(message) });
    client.ws.send(JSON.stringify({ type: 'ping', ref: 'marker' }));
    const frames = await client.until('pong', before);
    return frames.filter((frame) => !(frame.type === 'pong' && frame.ref === 'marker'));
  }

  describe('before authentication', () => {
    it('closes 4401 on a message that is not auth, on one that is not JSON, and on an invalid auth message', async () => {
      for (const message of [
        JSON.stringify({ type: 'ping' }),
        'not json',
        JSON.stringify({ type: 'auth', token: '' }),
        JSON.stringify({ type: 'bogus' }),
      ]) {
        const client = await open();
        client.ws.send(message);
        expect({ message, closed: await client.closed }).toEqual({
          message,
          closed: { code: 4401, reason: AUTHENTICATE_FIRST },
        });
        expect(client.frames).toEqual([]);
      }
    });

    it('closes 1008 on a binary frame', async () => {
      const client = await open();
      client.ws.send(Buffer.from('{"type":"auth"}'), { binary: true });
      expect(await client.closed).toEqual({ code: 1008, reason: 'send JSON in text frames' });
    });

    it('closes 4403 on a wrong token and 4401 when no auth comes in time', async () => {
      const wrong = await open();
      wrong.ws.send(JSON.stringify({ type: 'auth', token: 'tha_wrong' }));
      expect(await wrong.closed).toEqual({ code: 4403, reason: 'invalid admin token' });
      const silent = await open();
      expect(await silent.closed).toEqual({ code: 4401, reason: 'authentication timeout' });
      expect(silent.frames).toEqual([]);
    });

    it('answers auth with auth_ok: node, default rate, role and the MQTT port, nothing else', async () => {
      const client = await signedIn(viewerToken);
      expect(client.frames).toEqual([
        {
          type: 'auth_ok',
          node: expect.any(String),
          defaultRate: 10,
          role: 'viewer',
          mqttPort: Number(new URL(hub.mqttUrl).port),
        },
      ]);
    });

    it('authenticates a token in the Authorization header at once; a later auth message is ignored', async () => {
      const client = await open({ Authorization: `Bearer ${hub.adminToken}` });
      await client.until('auth_ok');
      expect(await answerTo(client, JSON.stringify({ type: 'auth', token: 'tha_wrong' }))).toEqual([]);
      expect(client.frames.map((frame) => frame.type)).toEqual(['auth_ok', 'pong']);
    });
  });

  describe('after authentication', () => {
    it('answers a message that is not JSON, or nests too deep, with an error and stays open', async () => {
      const client = await signedIn();
      expect(await answerTo(client, 'not json')).toEqual([
        { type: 'error', code: 'invalid_json', message: 'a message is one JSON object' },
      ]);
      const deep = `{"type":"ping","x":${'['.repeat(JSON_MAX_DEPTH)}${']'.repeat(JSON_MAX_DEPTH)}}`;
      expect(await answerTo(client, deep)).toEqual([
        {
          type: 'error',
          code: 'json_too_deep',
          message: `a message nests deeper than ${JSON_MAX_DEPTH} levels (TELEHUB_JSON_MAX_DEPTH)`,
        },
      ]);
    });

    it('answers an unknown or missing type, and JSON that is not an object, with invalid_message', async () => {
      const client = await signedIn();
      const unknownType = {
        type: 'error',
        id: 'b1',
        code: 'invalid_message',
        message:
          "type: Invalid discriminator value. Expected 'auth' | 'subscribe' | 'unsubscribe' | 'command' | 'ping'",
      };
      expect(await answerTo(client, JSON.stringify({ type: 'bogus', id: 'b1' }))).toEqual([unknownType]);
      expect(await answerTo(client, JSON.stringify({ type: 'constructor', id: 'b1' }))).toEqual([unknownType]);
      expect(await answerTo(client, JSON.stringify({ ref: 'r1' }))).toEqual([{ ...unknownType, id: 'r1' }]);
      expect(await answerTo(client, JSON.stringify([{ type: 'ping' }]))).toEqual([
        { type: 'error', code: 'invalid_message', message: 'message: Invalid input: expected object, received array' },
      ]);
      expect(await answerTo(client, 'null')).toEqual([
        { type: 'error', code: 'invalid_message', message: 'message: Invalid input: expected object, received null' },
      ]);
    });

    it('names each invalid field, with the id or ref of the message when it is a string', async () => {
      const client = await signedIn();
      const subscribe = { type: 'subscribe', id: 's1', devices: ['not-a-uuid'], metrics: '*', maxRate: 0 };
      expect(await answerTo(client, JSON.stringify(subscribe))).toEqual([
        {
          type: 'error',
          id: 's1',
          code: 'invalid_message',
          message: 'devices.0: Invalid UUID; maxRate: Too small: expected number to be >0',
        },
      ]);
      const command = { type: 'command', ref: 'c1', deviceId: 'nope', name: 'x' };
      expect(await answerTo(client, JSON.stringify(command))).toEqual([
        { type: 'error', id: 'c1', code: 'invalid_message', message: 'deviceId: Invalid UUID' },
      ]);
      expect(await answerTo(client, JSON.stringify({ type: 'unsubscribe', id: 7 }))).toEqual([
        {
          type: 'error',
          code: 'invalid_message',
          message: 'id: Invalid input: expected string, received number',
        },
      ]);
    });

    it("names a failed request's subscription id or command ref", async () => {
      const client = await signedIn();
      /** The first error after sending `message` (its answer may wait for the database). */
      const errorFor = async (message: Record<string, unknown>) => {
        const before = client.frames.length;
        client.ws.send(JSON.stringify(message));
        return (await client.until('error', before)).filter((frame) => frame.type === 'error');
      };
      expect(await errorFor({ type: 'command', ref: 'c2', deviceId: UNKNOWN_DEVICE, name: 'x' })).toEqual([
        { type: 'error', id: 'c2', code: 'device_not_found', message: `no device with id ${UNKNOWN_DEVICE}` },
      ]);
      // A command takes no other fields; the error names the `id` the message gave.
      expect(await errorFor({ type: 'command', ref: 'c3', id: 'stray', deviceId, name: 'x' })).toEqual([
        { type: 'error', id: 'stray', code: 'invalid_message', message: 'message: Unrecognized key: "id"' },
      ]);
      expect(await errorFor({ type: 'subscribe', id: 'h1', devices: '*', metrics: '*', history: '-1h' })).toEqual([
        {
          type: 'error',
          id: 'h1',
          code: 'history_needs_devices',
          message: 'history is for named devices; a "*" subscription is live only',
        },
      ]);
      expect(
        await errorFor({ type: 'subscribe', id: 'h2', devices: [deviceId], metrics: '*', history: 'yesterday' }),
      ).toEqual([{ type: 'error', id: 'h2', code: 'invalid_time', message: expect.stringMatching(/^history: /) }]);
    });

    it('refuses a subscription over TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS; replacing one by its id is not one more', async () => {
      const client = await signedIn();
      for (const id of ['a', 'b', 'a']) {
        client.ws.send(JSON.stringify({ type: 'subscribe', id, devices: [deviceId], metrics: [] }));
      }
      await client.until('snapshot');
      const before = client.frames.length;
      client.ws.send(JSON.stringify({ type: 'subscribe', id: 'c', devices: '*', metrics: [] }));
      expect((await client.until('error', before)).filter((frame) => frame.type === 'error')).toEqual([
        {
          type: 'error',
          id: 'c',
          code: 'too_many_subscriptions',
          message: `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection (TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS)`,
        },
      ]);
      expect(await answerTo(client, JSON.stringify({ type: 'unsubscribe', id: 'nothing' }))).toEqual([
        { type: 'unsubscribed', id: 'nothing' },
      ]);
    });

    it("checks a message before its role: a viewer's invalid command is invalid, its valid one forbidden", async () => {
      const client = await signedIn(viewerToken);
      expect(await answerTo(client, JSON.stringify({ type: 'command', ref: 'v1', deviceId, name: '' }))).toEqual([
        {
          type: 'error',
          id: 'v1',
          code: 'invalid_message',
          message: expect.stringMatching(/^name: /),
        },
      ]);
      expect(await answerTo(client, JSON.stringify({ type: 'command', ref: 'v2', deviceId, name: 'reboot' }))).toEqual([
        {
          type: 'error',
          id: 'v2',
          code: 'forbidden',
          message: '"command" needs the operator role; this admin token has the viewer role',
        },
      ]);
    });

    it('answers ping with pong (with its ref, if any), and closes 1008 on a binary frame, 1009 on one too large', async () => {
      const client = await signedIn();
      const before = client.frames.length;
      client.ws.send(JSON.stringify({ type: 'ping' }));
      expect((await client.until('pong', before))[0]).toEqual({ type: 'pong', at: expect.any(Number) });
      client.ws.send(Buffer.from('{}'), { binary: true });
      expect(await client.closed).toEqual({ code: 1008, reason: 'send JSON in text frames' });

      const large = await signedIn();
      large.ws.send(JSON.stringify({ type: 'ping', ref: 'x'.repeat(MAX_MESSAGE_BYTES) }));
      expect((await large.closed).code).toBe(1009);
    });
  });

  it('refuses a handshake on any other path under /v1/admin with 404, as every unknown upgrade path', async () => {
    for (const path of ['/v1/admin/ws/', '/v1/admin/wsx', '/v1/admin']) {
      const answer = await websocketFrom(undefined, `${hub.baseUrl.replace(/^http/, 'ws')}${path}`, {});
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
    // One owner of the HTTP server's 'upgrade' event (UpgradeRouter): a second listener would answer the same
    // handshake too (Node hands an upgrade request to every listener).
    expect(hub.hub.app.getHttpServer().listenerCount('upgrade')).toBe(1);
  });
});
