import { generate, type IConnackPacket, type IPublishPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthenticateRequest, AuthenticateResult } from '../mqtt-session.types.js';
import { connectPacket, connectSession, deferred, settle, startSession } from '../testing/session-harness.js';

const publish = (messageId: number): IPublishPacket => ({
  cmd: 'publish',
  topic: 'devices/1/telemetry',
  payload: Buffer.from('{}'),
  qos: 1,
  messageId,
  dup: false,
  retain: false,
});

describe('CONNECT', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a 3.1.1 client: CONNACK 0, session not present', async () => {
    const h = await connectSession({ protocolVersion: 4 });
    expect(h.connack).toMatchObject({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    expect(h.session.deviceId).toBe('device-1');
    expect(h.session.protocolVersion).toBe(4);
    expect(h.session.clientId).toBe('client-1');
    expect(h.session.isConnected).toBe(true);
  });

  it('parses a raw 3.1.1 CONNECT fixture split across several writes', async () => {
    const h = startSession();
    // CONNECT, "MQTT", level 4, flags 0x02 (clean), keepalive 60, client id "dev".
    const bytes = [
      0x10, 0x0f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03, 0x64, 0x65, 0x76,
    ];
    for (const byte of bytes) {
      h.client.sendRaw([byte]);
      await settle();
    }
    expect(await h.client.next()).toMatchObject({ cmd: 'connack', returnCode: 0 });
    expect(h.session.clientId).toBe('dev');
    expect(h.session.keepAliveSeconds).toBe(60);
  });

  it('advertises the MQTT 5 capabilities in CONNACK properties, without Maximum QoS', async () => {
    const h = await connectSession({ protocolVersion: 5, options: { maxPacketSize: 4096 } });
    expect(h.connack.reasonCode).toBe(0);
    expect(h.connack.properties).toEqual({
      maximumPacketSize: 4096,
      retainAvailable: false,
      wildcardSubscriptionAvailable: false,
      sharedSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      topicAliasMaximum: 0,
    });
  });

  it('assigns a client id to an MQTT 5 client that sent an empty one', async () => {
    const authenticate = vi.fn(async (): Promise<AuthenticateResult> => ({ ok: true, deviceId: 'd' }));
    const h = await connectSession({ protocolVersion: 5, connect: { clientId: '' }, hooks: { authenticate } });
    const assigned = h.connack.properties?.assignedClientIdentifier;
    expect(assigned).toMatch(/^telehub-[0-9a-f-]{36}$/);
    expect(h.session.clientId).toBe(assigned);
    expect(authenticate).toHaveBeenCalledWith(expect.objectContaining({ clientId: '', protocolVersion: 5 }), h.session);
  });

  it('passes credentials and the session to authenticate', async () => {
    const authenticate = vi.fn(async (): Promise<AuthenticateResult> => ({ ok: true, deviceId: 'd' }));
    const h = await connectSession({
      connect: { username: 'dev-7', password: Buffer.from('token') },
      hooks: { authenticate },
    });
    expect(authenticate).toHaveBeenCalledWith(
      {
        clientId: 'client-1',
        username: 'dev-7',
        password: Buffer.from('token'),
        protocolVersion: 4,
        keepAliveSeconds: 0,
      },
      h.session,
    );
  });

  it('passes the will to authenticate, so the server can refuse it at CONNECT; its detail is the close detail', async () => {
    const authenticate = vi.fn(
      async (): Promise<AuthenticateResult> => ({ ok: false, reason: 'not_authorized', detail: 'will topic' }),
    );
    const will = { topic: 'devices/1/state', payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: false };
    const h = await connectSession({ protocolVersion: 5, connect: { will }, hooks: { authenticate } });
    expect(authenticate).toHaveBeenCalledWith(
      expect.objectContaining({ will: expect.objectContaining({ topic: will.topic, payload: will.payload, qos: 1 }) }),
      h.session,
    );
    expect(h.connack.reasonCode).toBe(0x87);
    await h.closed;
    // A refused CONNECT never publishes its will: the session was never connected.
    expect(h.wills).toEqual([]);
    expect(h.closes).toEqual([{ reason: 'not_authorized', detail: 'will topic' }]);
  });

  it('caps the keep-alive of an MQTT 5 client with Server Keep Alive', async () => {
    const options = { serverKeepAliveMaxSeconds: 120 };
    const high = await connectSession({ protocolVersion: 5, options, connect: { keepalive: 600 } });
    expect(high.connack.properties?.serverKeepAlive).toBe(120);
    expect(high.session.keepAliveSeconds).toBe(120);
    const none = await connectSession({ protocolVersion: 5, options, connect: { keepalive: 0 } });
    expect(none.connack.properties?.serverKeepAlive).toBe(120);
    const low = await connectSession({ protocolVersion: 5, options, connect: { keepalive: 30 } });
    expect(low.connack.properties?.serverKeepAlive).toBeUndefined();
    expect(low.session.keepAliveSeconds).toBe(30);
    const v4 = await connectSession({ protocolVersion: 4, options, connect: { keepalive: 600 } });
    expect(v4.session.keepAliveSeconds).toBe(600);
  });

  it("tells authenticate the keep-alive the session will hold to: the client's, or the MQTT 5 cap", async () => {
    const options = { serverKeepAliveMaxSeconds: 120 };
    const requests: AuthenticateRequest[] = [];
    const authenticate = async (request: AuthenticateRequest): Promise<AuthenticateResult> => {
      requests.push(request);
      return { ok: true, deviceId: 'device-1' };
    };
    await connectSession({ protocolVersion: 5, options, hooks: { authenticate }, connect: { keepalive: 600 } });
    await connectSession({ protocolVersion: 5, options, hooks: { authenticate }, connect: { keepalive: 30 } });
    await connectSession({ protocolVersion: 4, options, hooks: { authenticate }, connect: { keepalive: 600 } });
    await connectSession({ protocolVersion: 4, hooks: { authenticate }, connect: { keepalive: 0 } });
    expect(requests.map((request) => request.keepAliveSeconds)).toEqual([120, 30, 600, 0]);
  });

  describe.each([
    ['bad_credentials', 0x05, 0x86],
    ['not_authorized', 0x05, 0x87],
    ['server_unavailable', 0x03, 0x88],
    ['payload_format_invalid', 0x05, 0x99],
    ['connection_rate_exceeded', 0x03, 0x9f],
  ] as const)('refused with %s', (reason, returnCode, reasonCode) => {
    const authenticate = async (): Promise<AuthenticateResult> => ({ ok: false, reason });

    it(`3.1.1: CONNACK ${returnCode}, then close`, async () => {
      const h = await connectSession({ protocolVersion: 4, hooks: { authenticate } });
      expect(h.connack).toMatchObject({ returnCode, sessionPresent: false });
      expect(await h.closed).toBe(reason);
      await h.client.closed;
      expect(h.client.pending()).toEqual([]);
    });

    it(`5: CONNACK 0x${reasonCode.toString(16)}, then close without DISCONNECT`, async () => {
      const h = await connectSession({ protocolVersion: 5, hooks: { authenticate } });
      expect(h.connack).toMatchObject({ reasonCode, sessionPresent: false });
      expect(await h.closed).toBe(reason);
      await h.client.closed;
      expect(h.client.pending()).toEqual([]);
    });
  });

  it('answers an authenticate failure with server unavailable and closes with internal_error', async () => {
    const authenticate = async (): Promise<AuthenticateResult> => {
      throw new Error('cache down');
    };
    const h = await connectSession({ protocolVersion: 5, hooks: { authenticate } });
    expect(h.connack.reasonCode).toBe(0x88);
    await h.closed;
    expect(h.closes).toEqual([{ reason: 'internal_error', detail: 'cache down' }]);
  });

  it('does not process packets sent behind the CONNECT until authenticate settles', async () => {
    const auth = deferred<AuthenticateResult>();
    const h = startSession({ hooks: { authenticate: () => auth.promise } });
    h.client.sendRaw(Buffer.concat([generate(connectPacket(4)), generate(publish(1)), generate(publish(2))]));
    await settle();
    await settle();
    expect(h.published).toEqual([]);
    expect(h.client.packets).toEqual([]);
    auth.resolve({ ok: true, deviceId: 'd' });
    expect(await h.client.next()).toMatchObject({ cmd: 'connack' });
    expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1 });
    expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 2 });
    expect(h.published).toHaveLength(2);
  });

  it('taken over while its CONNECT is answered: CONNACK first, then DISCONNECT 0x8E, never a silent cut', async () => {
    for (const protocolVersion of [5, 4] as const) {
      const auth = deferred<AuthenticateResult>();
      const h = startSession({ protocolVersion, hooks: { authenticate: () => auth.promise } });
      h.client.sendRaw(generate(connectPacket(protocolVersion)));
      await settle();
      // A newer session of the device won on another hub before this CONNECT was answered.
      h.session.close('taken_over');
      auth.resolve({ ok: true, deviceId: 'd' });
      const connack = (await h.client.next()) as IConnackPacket;
      expect(connack.cmd).toBe('connack');
      expect(protocolVersion === 5 ? connack.reasonCode : connack.returnCode).toBe(0);
      // MQTT 5 says why [MQTT-3.14.0-1 allows it once the CONNACK went out]; 3.1.1 has no DISCONNECT from servers.
      if (protocolVersion === 5) expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8e });
      expect(await h.closed).toBe('taken_over');
    }
  });

  it('never processes packets behind a refused CONNECT [MQTT-3.1.4-5]', async () => {
    const auth = deferred<AuthenticateResult>();
    const h = startSession({ hooks: { authenticate: () => auth.promise } });
    h.client.sendRaw(Buffer.concat([generate(connectPacket(4)), generate(publish(1))]));
    await settle();
    auth.resolve({ ok: false, reason: 'not_authorized' });
    expect(await h.closed).toBe('not_authorized');
    expect(h.published).toEqual([]);
  });

  it('refuses protocol level 3 (MQIsdp) with return code 1', async () => {
    const h = startSession();
    h.client.send({ ...connectPacket(4), protocolId: 'MQIsdp', protocolVersion: 3 });
    expect(await h.client.next()).toMatchObject({ cmd: 'connack', returnCode: 1 });
    expect(await h.closed).toBe('unsupported_protocol_version');
  });

  it('refuses an unknown protocol level with return code 1', async () => {
    const h = startSession();
    // A level 6 CONNECT; mqtt-packet cannot parse it, the session still answers [MQTT-3.1.2-2].
    h.client.sendRaw([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x78]);
    expect(await h.client.next()).toMatchObject({ cmd: 'connack', returnCode: 1 });
    expect(await h.closed).toBe('unsupported_protocol_version');
  });

  it('rejects an empty 3.1.1 client id without clean session (return code 2)', async () => {
    const h = startSession();
    // mqtt-packet refuses to encode this CONNECT, so it is written by hand: flags 0x00, empty client id.
    h.client.sendRaw([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    expect(await h.client.next()).toMatchObject({ cmd: 'connack', returnCode: 2 });
    expect(await h.closed).toBe('client_id_rejected');
  });

  it('refuses an MQTT 5 retained will, since Retain Available is 0 (0x9A)', async () => {
    const will = { topic: 'w', payload: Buffer.from('bye'), qos: 0 as const, retain: true };
    const h = await connectSession({ protocolVersion: 5, connect: { will } });
    expect(h.connack.reasonCode).toBe(0x9a);
    expect(await h.closed).toBe('protocol_error');
  });

  it('refuses MQTT 5 enhanced authentication (0x8C)', async () => {
    const h = await connectSession({ protocolVersion: 5, connect: { properties: { authenticationMethod: 'SCRAM' } } });
    expect(h.connack.reasonCode).toBe(0x8c);
    expect(await h.closed).toBe('bad_credentials');
  });

  it('closes when the first packet is not CONNECT [MQTT-3.1.0-1]', async () => {
    const h = startSession();
    h.client.send({ cmd: 'pingreq' });
    expect(await h.closed).toBe('protocol_error');
    expect(h.client.packets).toEqual([]);
  });

  it('closes on a second CONNECT [MQTT-3.1.0-2], with DISCONNECT 0x82 for MQTT 5', async () => {
    const h = await connectSession({ protocolVersion: 5 });
    h.client.send(connectPacket(5));
    expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x82 });
    expect(await h.closed).toBe('protocol_error');
  });

  it('closes without CONNACK when no CONNECT arrives in time', async () => {
    vi.useFakeTimers();
    const h = startSession({ options: { connectTimeoutMs: 500 } });
    vi.advanceTimersByTime(499);
    expect(h.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    vi.useRealTimers();
    expect(await h.closed).toBe('connect_timeout');
    expect(h.client.packets).toEqual([]);
  });

  it('keeps a CONNACK from being sent after the connect timeout fired during authenticate', async () => {
    const auth = deferred<AuthenticateResult>();
    const h = startSession({ options: { connectTimeoutMs: 30 }, hooks: { authenticate: () => auth.promise } });
    h.client.send(connectPacket(4));
    expect(await h.closed).toBe('connect_timeout');
    auth.resolve({ ok: true, deviceId: 'late' });
    await settle();
    expect(h.client.packets).toEqual([]);
    expect(h.session.deviceId).toBeUndefined();
  });

  it('still answers a client that sent CONNECT, PUBLISH and DISCONNECT and then hung up', async () => {
    const auth = deferred<AuthenticateResult>();
    const h = startSession({ hooks: { authenticate: () => auth.promise } });
    h.client.sendRaw(
      Buffer.concat([generate(connectPacket(4)), generate({ ...publish(0), qos: 0 }), generate({ cmd: 'disconnect' })]),
    );
    h.client.stream.end();
    await settle();
    auth.resolve({ ok: true, deviceId: 'd' });
    expect(await h.closed).toBe('client_disconnect');
    await h.client.closed;
    expect(h.published.map((message) => message.topic)).toEqual(['devices/1/telemetry']);
  });
});
