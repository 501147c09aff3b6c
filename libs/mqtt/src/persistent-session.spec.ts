import type { IConnackPacket, IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { MqttSessionOptions } from './mqtt-session.types.js';
import { MemorySessionStore } from './testing/memory-session-store.js';
import { connectSession, type HarnessParams, settle } from './testing/session-harness.js';

const COMMANDS = 'devices/1/commands';

function withStore(store: MemorySessionStore, extra: Partial<MqttSessionOptions> = {}): Partial<MqttSessionOptions> {
  return { sessionStore: store, sessionExpiryMaxSeconds: 3600, ...extra };
}

async function subscribed(params: HarnessParams & { connect?: object }, filters = [COMMANDS]) {
  const h = await connectSession(params);
  h.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map((topic) => ({ topic, qos: 1 })) });
  const suback = await h.client.next();
  return { ...h, suback };
}

async function disconnect(h: Awaited<ReturnType<typeof connectSession>>, properties?: object) {
  h.client.send({ cmd: 'disconnect', ...(properties ? { properties } : {}) });
  await h.closed;
  await settle();
}

describe('sessions kept beyond the connection', () => {
  it('3.1.1 without Clean Session: Session Present 1 on return, with the subscription and no new SUBSCRIBE', async () => {
    const store = new MemorySessionStore();
    const resumed: string[] = [];
    const options = withStore(store);
    const connect = { clean: false };
    const first = await subscribed({ options, connect });
    expect(first.connack).toMatchObject({ returnCode: 0, sessionPresent: false });
    expect(first.suback).toMatchObject({ cmd: 'suback', granted: [1] });
    await disconnect(first);

    const second = await connectSession({
      options,
      connect,
      hooks: { onSessionResumed: (session) => resumed.push(session.clientId!) },
    });
    expect(second.connack).toMatchObject({ returnCode: 0, sessionPresent: true });
    expect([...second.session.subscriptions]).toEqual([[COMMANDS, 1]]);
    expect(second.session.sessionPresent).toBe(true);
    expect(resumed).toEqual(['client-1']);
    expect(store.calls).toEqual([
      'open client-1 clean=false expiry=3600',
      `save ${COMMANDS}`,
      'close expiry=3600 unacknowledged=0',
      'open client-1 clean=false expiry=3600',
    ]);
  });

  it('Clean Session discards the earlier session [MQTT-3.1.2-6]', async () => {
    const store = new MemorySessionStore();
    const options = withStore(store);
    await disconnect((await subscribed({ options, connect: { clean: false } })) as never);
    const clean = await connectSession({ options, connect: { clean: true } });
    expect(clean.connack.sessionPresent).toBe(false);
    expect(clean.session.subscriptions.size).toBe(0);
    await disconnect(clean);
    const again = await connectSession({ options, connect: { clean: false } });
    expect(again.connack.sessionPresent).toBe(false);
  });

  it('a clean session is never saved: no store call after the CONNECT', async () => {
    const store = new MemorySessionStore();
    const h = await subscribed({ options: withStore(store), connect: { clean: true } });
    await disconnect(h);
    expect(store.calls).toEqual(['open client-1 clean=true expiry=0']);
  });

  it('5: caps the Session Expiry Interval and says so in the CONNACK; an accepted value is not repeated', async () => {
    const store = new MemorySessionStore();
    const capped = await connectSession({
      protocolVersion: 5,
      options: withStore(store, { sessionExpiryMaxSeconds: 600 }),
      connect: { clean: false, properties: { sessionExpiryInterval: 86_400 } },
    });
    expect(capped.connack.properties?.sessionExpiryInterval).toBe(600);
    expect(capped.session.sessionExpirySeconds).toBe(600);
    const accepted = await connectSession({
      protocolVersion: 5,
      options: withStore(store, { sessionExpiryMaxSeconds: 600 }),
      connect: { clientId: 'other', clean: false, properties: { sessionExpiryInterval: 60 } },
    });
    expect(accepted.connack.properties?.sessionExpiryInterval).toBeUndefined();
  });

  it('5: without a store, a client asking for a session expiry is told 0', async () => {
    const h = await connectSession({
      protocolVersion: 5,
      options: { sessionExpiryMaxSeconds: 600 },
      connect: { clean: false, properties: { sessionExpiryInterval: 300 } },
    });
    expect(h.connack).toMatchObject({ sessionPresent: false, properties: { sessionExpiryInterval: 0 } });
  });

  it('5: Clean Start 0 without an expiry resumes the session but ends it with the connection', async () => {
    const store = new MemorySessionStore();
    const options = withStore(store);
    const kept = { clean: false, properties: { sessionExpiryInterval: 60 } };
    await disconnect(await subscribed({ protocolVersion: 5, options, connect: kept }));
    const lastTime = await connectSession({ protocolVersion: 5, options, connect: { clean: false } });
    expect(lastTime.connack.sessionPresent).toBe(true);
    expect(lastTime.session.subscriptions.size).toBe(1);
    await disconnect(lastTime);
    expect(store.sessions.size).toBe(0);
  });

  it('5: DISCONNECT may change the expiry, 0 ending the session now', async () => {
    const store = new MemorySessionStore();
    const options = withStore(store);
    const h = await subscribed({
      protocolVersion: 5,
      options,
      connect: { clean: false, properties: { sessionExpiryInterval: 60 } },
    });
    await disconnect(h, { sessionExpiryInterval: 0 });
    expect(store.calls.at(-1)).toBe('close expiry=0 unacknowledged=0');
    expect(store.sessions.size).toBe(0);
  });

  it('5: DISCONNECT may not give an expiry to a session that had none: 0x82 [MQTT-3.14.2-2]', async () => {
    const store = new MemorySessionStore();
    const h = await connectSession({ protocolVersion: 5, options: withStore(store), connect: { clean: false } });
    h.client.send({ cmd: 'disconnect', properties: { sessionExpiryInterval: 60 } });
    expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x82 });
    expect(await h.closed).toBe('protocol_error');
  });

  it('resends a publish its earlier connection left unacknowledged with its packet id and DUP [MQTT-4.4.0-1]', async () => {
    const store = new MemorySessionStore();
    const options = withStore(store);
    const first = await subscribed({ options, connect: { clean: false } });
    const firstId = first.session.publish({ topic: COMMANDS, payload: 'a', qos: 1 }, { command: 'a' });
    const secondId = first.session.publish({ topic: COMMANDS, payload: 'b', qos: 1 }, { command: 'b' });
    expect(await first.client.next()).toMatchObject({ cmd: 'publish', messageId: firstId, dup: false });
    await first.client.next();
    first.client.send({ cmd: 'puback', messageId: secondId! });
    await settle();
    await disconnect(first);
    expect(store.calls.at(-1)).toBe('close expiry=3600 unacknowledged=1');

    const second = await connectSession({ options, connect: { clean: false } });
    expect([...second.session.restoredPublishes]).toEqual([[firstId, { command: 'a' }]]);
    // A new publish never takes the id kept for the resend.
    const fresh = second.session.publish({ topic: COMMANDS, payload: 'c', qos: 1 }, { command: 'c' });
    expect(fresh).not.toBe(firstId);
    second.session.publish({ topic: COMMANDS, payload: 'a', qos: 1 }, { command: 'a' }, { packetId: firstId });
    await second.client.next();
    const resent = (await second.client.next()) as IPublishPacket;
    expect(resent).toMatchObject({ cmd: 'publish', messageId: firstId, dup: true, qos: 1 });
    expect(resent.payload.toString()).toBe('a');
    second.client.send({ cmd: 'puback', messageId: firstId! });
    await settle();
    expect(second.outboundAcks).toEqual([{ messageId: firstId, tag: { command: 'a' }, reasonCode: 0 }]);
    expect(() =>
      second.session.publish({ topic: COMMANDS, payload: 'a', qos: 1 }, undefined, { packetId: firstId }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PACKET_ID_NOT_RESTORED' }));
  });

  it('asks authorizeSubscribe again for each restored subscription', async () => {
    const store = new MemorySessionStore();
    const options = withStore(store);
    await disconnect(await subscribed({ options, connect: { clean: false } }, [COMMANDS, 'devices/1/other']));
    const narrowed = await connectSession({
      options,
      connect: { clean: false },
      hooks: { authorizeSubscribe: (_session, filter) => ({ granted: filter === COMMANDS, qos: 0 }) },
    });
    expect([...narrowed.session.subscriptions]).toEqual([[COMMANDS, 0]]);
  });

  it('refuses a filter beyond maxSubscriptions (MQTT 5: 0x97 Quota exceeded; 3.1.1: 0x80)', async () => {
    const options = { maxSubscriptions: 2 };
    const v5 = await subscribed({ protocolVersion: 5, options }, ['a/1', 'a/2', 'a/3', 'a/1']);
    expect(v5.suback).toMatchObject({ granted: [1, 1, 0x97, 1] });
    expect(v5.session.subscriptions.size).toBe(2);
    const v4 = await subscribed({ protocolVersion: 4, options }, ['a/1', 'a/2', 'a/3']);
    expect(v4.suback).toMatchObject({ granted: [1, 1, 0x80] });
  });

  it('refuses the CONNECT with Server unavailable when the store cannot open the session', async () => {
    for (const [protocolVersion, code] of [
      [4, { returnCode: 3 }],
      [5, { reasonCode: 0x88 }],
    ] as const) {
      const store = new MemorySessionStore();
      store.failNext = 'open';
      const h = await connectSession({ protocolVersion, options: withStore(store), connect: { clean: false } });
      expect(h.connack as IConnackPacket).toMatchObject({ ...code, sessionPresent: false });
      expect(await h.closed).toBe('server_unavailable');
      expect(h.closes[0]?.detail).toBe('session store: open failed');
    }
  });

  it('closes instead of granting a subscription the store could not save', async () => {
    const store = new MemorySessionStore();
    store.failNext = 'saveSubscriptions';
    const h = await connectSession({
      protocolVersion: 5,
      options: withStore(store),
      connect: { clean: false, properties: { sessionExpiryInterval: 60 } },
    });
    h.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: COMMANDS, qos: 1 }] });
    expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x89 });
    expect(await h.closed).toBe('server_unavailable');
    expect(h.subscribed).toEqual([]);
  });

  it('UNSUBSCRIBE of a kept session is saved before the UNSUBACK', async () => {
    const store = new MemorySessionStore();
    const h = await subscribed({ options: withStore(store), connect: { clean: false } });
    h.client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: [COMMANDS] });
    expect(await h.client.next()).toMatchObject({ cmd: 'unsuback', messageId: 2 });
    expect(store.calls.at(-1)).toBe('save ');
    expect(store.sessions.get('client-1')?.subscriptions).toEqual([]);
  });
});
