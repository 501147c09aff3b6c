import type { IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { PublishOutcome } from '../mqtt-session.types.js';
import { connectSession, manualPublishes, settle } from '../testing/session-harness.js';

const publish = (messageId: number | undefined, overrides: Partial<IPublishPacket> = {}): IPublishPacket => ({
  cmd: 'publish',
  topic: 'devices/1/telemetry',
  payload: Buffer.from(`{"n":${messageId ?? 0}}`),
  qos: messageId === undefined ? 0 : 1,
  ...(messageId === undefined ? {} : { messageId }),
  dup: false,
  retain: false,
  ...overrides,
});

const accepted: PublishOutcome = { kind: 'accepted' };

describe('PUBLISH', () => {
  it('QoS 0: calls onPublish with topic, payload and retain, and sends no ack', async () => {
    const h = await connectSession();
    h.client.send(publish(undefined, { retain: true }));
    await settle();
    expect(h.published).toEqual([
      { topic: 'devices/1/telemetry', payload: Buffer.from('{"n":0}'), qos: 0, retain: true },
    ]);
    h.client.send({ cmd: 'pingreq' });
    expect(await h.client.next()).toMatchObject({ cmd: 'pingresp' });
  });

  it('QoS 1: PUBACK only after the onPublish promise resolves', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    h.client.send(publish(5));
    await settle();
    await settle();
    expect(m.calls).toHaveLength(1);
    expect(h.client.pending()).toEqual([]);
    m.calls[0]!.outcome.resolve(accepted);
    expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 5 });
  });

  it('keeps several publishes of one session in flight at once', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    for (const id of [1, 2, 3]) h.client.send(publish(id));
    await settle();
    await settle();
    expect(m.calls).toHaveLength(3);
    expect(h.session.inflightPublishes).toBe(3);
  });

  it('writes acks in arrival order when promises resolve out of order', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    for (const id of [1, 2, 3]) h.client.send(publish(id));
    await settle();
    m.calls[2]!.outcome.resolve(accepted);
    m.calls[1]!.outcome.resolve(accepted);
    await settle();
    expect(h.client.pending()).toEqual([]);
    m.calls[0]!.outcome.resolve(accepted);
    const ids = [await h.client.next(), await h.client.next(), await h.client.next()].map((p) => p.messageId);
    expect(ids).toEqual([1, 2, 3]);
  });

  it('sends acks released together in one write', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    for (const id of [1, 2, 3, 4]) h.client.send(publish(id));
    await settle();
    const chunksBefore = h.client.chunks.length;
    for (const call of m.calls) call.outcome.resolve(accepted);
    await settle();
    expect(h.client.chunks.length - chunksBefore).toBe(1);
    expect(h.client.chunks.at(-1)).toEqual(Buffer.from([0x40, 2, 0, 1, 0x40, 2, 0, 2, 0x40, 2, 0, 3, 0x40, 2, 0, 4]));
  });

  it('holds a QoS 1 ack behind an unsettled QoS 0 publish that arrived first', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    h.client.send(publish(undefined));
    h.client.send(publish(9));
    await settle();
    m.calls[1]!.outcome.resolve(accepted);
    await settle();
    expect(h.client.pending()).toEqual([]);
    m.calls[0]!.outcome.resolve(accepted);
    expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 9 });
  });

  it('stops reading once maxInflightPublishes calls are unsettled', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks, options: { maxInflightPublishes: 2 } });
    for (const id of [1, 2, 3]) h.client.send(publish(id));
    await settle();
    await settle();
    expect(m.calls).toHaveLength(2);
    m.calls[0]!.outcome.resolve(accepted);
    await settle();
    expect(m.calls).toHaveLength(3);
  });

  describe('QoS 2', () => {
    it('delivers once, answers PUBREC after the promise, PUBCOMP on PUBREL, then forgets the id', async () => {
      const m = manualPublishes();
      const h = await connectSession({ hooks: m.hooks });
      h.client.send(publish(7, { qos: 2 }));
      await settle();
      expect(h.client.pending()).toEqual([]);
      m.calls[0]!.outcome.resolve(accepted);
      expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
      // The client did not see the PUBREC in time and resends: PUBREC again, no second delivery [MQTT-4.3.3-2].
      h.client.send(publish(7, { qos: 2, dup: true }));
      expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
      expect(m.calls).toHaveLength(1);
      h.client.send({ cmd: 'pubrel', messageId: 7 });
      expect(await h.client.next()).toMatchObject({ cmd: 'pubcomp', messageId: 7 });
      // After PUBREL the id is free: the same id is a new message.
      h.client.send(publish(7, { qos: 2 }));
      await settle();
      expect(m.calls).toHaveLength(2);
    });

    it('answers a duplicate that arrives while the first is still being stored, without a second delivery', async () => {
      const m = manualPublishes();
      const h = await connectSession({ hooks: m.hooks });
      h.client.send(publish(3, { qos: 2 }));
      h.client.send(publish(3, { qos: 2, dup: true }));
      await settle();
      expect(m.calls).toHaveLength(1);
      m.calls[0]!.outcome.resolve(accepted);
      expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 3 });
      expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 3 });
    });

    it('answers PUBREL for an unknown id with PUBCOMP (0x92 in MQTT 5)', async () => {
      const v4 = await connectSession({ protocolVersion: 4 });
      v4.client.send({ cmd: 'pubrel', messageId: 44 });
      expect(await v4.client.next()).toMatchObject({ cmd: 'pubcomp', messageId: 44 });
      const v5 = await connectSession({ protocolVersion: 5 });
      v5.client.send({ cmd: 'pubrel', messageId: 44 });
      expect(await v5.client.next()).toMatchObject({ cmd: 'pubcomp', messageId: 44, reasonCode: 0x92 });
    });
  });

  describe('outcomes', () => {
    const invalid: PublishOutcome = { kind: 'invalid_payload', message: 'temperature must be a number' };

    it('invalid_payload, 3.1.1: acknowledged normally so the device does not resend forever', async () => {
      const h = await connectSession({ protocolVersion: 4, hooks: { onPublish: async () => invalid } });
      h.client.send(publish(1));
      expect(await h.client.next()).toEqual(expect.objectContaining({ cmd: 'puback', messageId: 1 }));
      expect(h.client.chunks.at(-1)).toEqual(Buffer.from([0x40, 0x02, 0x00, 0x01]));
      expect(h.session.isConnected).toBe(true);
    });

    it('invalid_payload, 5: PUBACK/PUBREC 0x99 with the reason string', async () => {
      const h = await connectSession({ protocolVersion: 5, hooks: { onPublish: async () => invalid } });
      h.client.send(publish(1));
      expect(await h.client.next()).toMatchObject({
        cmd: 'puback',
        reasonCode: 0x99,
        properties: { reasonString: 'temperature must be a number' },
      });
      h.client.send(publish(2, { qos: 2 }));
      expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 2, reasonCode: 0x99 });
      // A failed PUBREC ends the QoS 2 flow, so the id is not awaiting PUBREL.
      h.client.send({ cmd: 'pubrel', messageId: 2 });
      expect(await h.client.next()).toMatchObject({ cmd: 'pubcomp', reasonCode: 0x92 });
    });

    it('invalid_payload, 5: no reason string when the client turned off problem information', async () => {
      const h = await connectSession({
        protocolVersion: 5,
        connect: { properties: { requestProblemInformation: false } },
        hooks: { onPublish: async () => invalid },
      });
      h.client.send(publish(1));
      const puback = await h.client.next();
      expect(puback).toMatchObject({ cmd: 'puback', reasonCode: 0x99 });
      expect(puback).not.toHaveProperty('properties');
    });

    const refused: PublishOutcome = { kind: 'refused', reasonCode: 0x87, message: 'not your command' };

    it('refused, 5: PUBACK with the given reason code and reason string; the session goes on', async () => {
      const h = await connectSession({ protocolVersion: 5, hooks: { onPublish: async () => refused } });
      h.client.send(publish(1));
      expect(await h.client.next()).toMatchObject({
        cmd: 'puback',
        messageId: 1,
        reasonCode: 0x87,
        properties: { reasonString: 'not your command' },
      });
      expect(h.session.isConnected).toBe(true);
    });

    it('refused, 3.1.1: acknowledged normally (there is no negative ack) and the session goes on', async () => {
      const h = await connectSession({ protocolVersion: 4, hooks: { onPublish: async () => refused } });
      h.client.send(publish(1));
      expect(await h.client.next()).toEqual(expect.objectContaining({ cmd: 'puback', messageId: 1 }));
      expect(h.session.isConnected).toBe(true);
    });

    it('not_authorized, 3.1.1: closes without acknowledging [MQTT-3.3.5-2]', async () => {
      const h = await connectSession({
        protocolVersion: 4,
        hooks: { onPublish: async () => ({ kind: 'not_authorized' }) },
      });
      h.client.send(publish(1));
      expect(await h.closed).toBe('not_authorized');
      await h.client.closed;
      expect(h.client.pending()).toEqual([]);
    });

    it('not_authorized, 5: PUBACK 0x87 and the session stays open', async () => {
      const h = await connectSession({
        protocolVersion: 5,
        hooks: { onPublish: async () => ({ kind: 'not_authorized' }) },
      });
      h.client.send(publish(1));
      expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0x87 });
      expect(h.session.isConnected).toBe(true);
    });

    it('not_authorized, 5, QoS 0: no ack exists to carry the code, so DISCONNECT 0x87', async () => {
      const h = await connectSession({
        protocolVersion: 5,
        hooks: { onPublish: async () => ({ kind: 'not_authorized' }) },
      });
      h.client.send(publish(undefined));
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x87 });
      expect(await h.closed).toBe('not_authorized');
    });

    it.each([
      [false, 0x89, 'server_busy'],
      [true, 0x8b, 'server_shutdown'],
    ] as const)('unavailable (shuttingDown %s), 5: no ack, DISCONNECT 0x%s', async (shuttingDown, code, reason) => {
      const outcome: PublishOutcome = { kind: 'unavailable', shuttingDown };
      const h = await connectSession({ protocolVersion: 5, hooks: { onPublish: async () => outcome } });
      h.client.send(publish(1));
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: code });
      expect(await h.closed).toBe(reason);
    });

    it('unavailable, 3.1.1: closes without acknowledging', async () => {
      const h = await connectSession({
        protocolVersion: 4,
        hooks: { onPublish: async () => ({ kind: 'unavailable' }) },
      });
      h.client.send(publish(1));
      expect(await h.closed).toBe('server_busy');
      await h.client.closed;
      expect(h.client.pending()).toEqual([]);
    });
  });

  describe('protocol errors', () => {
    it('closes on a wildcard in the topic name [MQTT-3.3.2-2]', async () => {
      const h = await connectSession({ protocolVersion: 5 });
      h.client.send(publish(1, { topic: 'devices/+/telemetry' }));
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x82 });
      expect(await h.closed).toBe('protocol_error');
      expect(h.published).toEqual([]);
    });

    it('closes with 0x94 on a topic alias, since Topic Alias Maximum is 0', async () => {
      const h = await connectSession({ protocolVersion: 5 });
      h.client.send(publish(1, { properties: { topicAlias: 1 } }));
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x94 });
      expect(await h.closed).toBe('topic_alias_invalid');
    });

    it('passes MQTT 5 publish properties through', async () => {
      const h = await connectSession({ protocolVersion: 5 });
      h.client.send(publish(1, { properties: { contentType: 'application/json', payloadFormatIndicator: true } }));
      await h.client.next();
      expect(h.published[0]?.properties).toEqual({ contentType: 'application/json', payloadFormatIndicator: true });
    });
  });

  describe('hook failures close only that session', () => {
    it('onPublish throwing synchronously', async () => {
      const onPublish = (): Promise<PublishOutcome> => {
        throw new Error('bug');
      };
      const broken = await connectSession({ protocolVersion: 5, hooks: { onPublish } });
      const healthy = await connectSession({ protocolVersion: 5 });
      broken.client.send(publish(1));
      healthy.client.send(publish(1));
      expect(await broken.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x80 });
      expect(await broken.closed).toBe('internal_error');
      expect(broken.closes[0]?.detail).toBe('bug');
      expect(await healthy.client.next()).toMatchObject({ cmd: 'puback' });
      expect(healthy.session.isConnected).toBe(true);
    });

    it('onPublish rejecting', async () => {
      const h = await connectSession({ hooks: { onPublish: () => Promise.reject(new Error('db down')) } });
      h.client.send(publish(1));
      expect(await h.closed).toBe('internal_error');
      expect(h.client.pending()).toEqual([]);
    });
  });
});

describe('PUBLISH with a packet identifier cut short', () => {
  // QoS 1, topic "a/b", then one byte where the two-byte Packet Identifier belongs: mqtt-packet reads it as -1
  // instead of failing. Found by the session fuzz spec (seed 1673814420): the server answered with half a PUBACK.
  const truncated = [0x32, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x00];

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: closes as malformed, calls no hook, writes no partial ack`, async () => {
      const h = await connectSession({ protocolVersion });
      h.client.sendRaw(truncated);
      expect(await h.closed).toBe('malformed_packet');
      await settle();
      expect(h.published).toEqual([]);
      // Whole packets only: a DISCONNECT 0x81 in MQTT 5 [MQTT-4.13.1-1], nothing at all in 3.1.1.
      const after = h.client.pending();
      expect(after.map((packet) => packet.cmd)).toEqual(protocolVersion === 5 ? ['disconnect'] : []);
      if (protocolVersion === 5) expect(after[0]).toMatchObject({ reasonCode: 0x81 });
    });
  }
});
