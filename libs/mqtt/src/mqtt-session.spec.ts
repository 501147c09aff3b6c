import { generate, type IPublishPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CloseReason } from './close-reason.js';
import { KEEP_ALIVE_RESOLUTION_MS } from './keep-alive.timer.js';
import { connectSession, manualPublishes, settle } from './testing/session-harness.js';

const publish = (messageId: number, payload: Buffer = Buffer.from('{}')): IPublishPacket => ({
  cmd: 'publish',
  topic: 'devices/1/telemetry',
  payload,
  qos: 1,
  messageId,
  dup: false,
  retain: false,
});

describe('MqttSession', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('close()', () => {
    it.each([
      ['taken_over', 0x8e],
      ['server_shutdown', 0x8b],
      ['rate_limited', 0x96],
      ['packet_too_large', 0x95],
      ['malformed_packet', 0x81],
      ['protocol_error', 0x82],
      ['keepalive_timeout', 0x8d],
      ['not_authorized', 0x87],
      ['administrative_action', 0x98],
    ] as Array<[CloseReason, number]>)('%s: MQTT 5 gets DISCONNECT 0x%s first', async (reason, reasonCode) => {
      const h = await connectSession({ protocolVersion: 5 });
      h.session.close(reason);
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode });
      expect(await h.closed).toBe(reason);
      await h.client.closed;
    });

    it('3.1.1: just ends the stream', async () => {
      const h = await connectSession({ protocolVersion: 4 });
      h.session.close('taken_over');
      await h.client.closed;
      expect(h.client.pending()).toEqual([]);
      expect(await h.closed).toBe('taken_over');
    });

    it('is idempotent: onClose fires once, with the first reason', async () => {
      const h = await connectSession({ protocolVersion: 5 });
      h.session.close('taken_over', 'new connection from 10.0.0.7');
      h.session.close('server_shutdown');
      await h.client.closed;
      await settle();
      expect(h.closes).toEqual([{ reason: 'taken_over', detail: 'new connection from 10.0.0.7' }]);
      expect(h.client.packets.filter((packet) => packet.cmd === 'disconnect')).toHaveLength(1);
    });

    it('reports a client that vanished as socket_closed', async () => {
      const h = await connectSession();
      h.client.stream.destroy();
      expect(await h.closed).toBe('socket_closed');
      expect(h.session.isConnected).toBe(false);
    });

    it('ends its side, then reads and discards until the client ends its side, and only then destroys', async () => {
      // A TCP socket destroyed with unread bytes sends a reset, which can drop the final acks and DISCONNECT.
      const h = await connectSession({ protocolVersion: 5 });
      h.client.stream.allowHalfOpen = true;
      const clientEnded = new Promise((resolve) => h.client.stream.once('end', resolve));
      h.session.pause();
      h.client.send(publish(1));
      await settle();
      expect(h.serverStream.readableLength).toBeGreaterThan(0);
      h.session.close('server_shutdown');
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8b });
      await clientEnded;
      h.client.send(publish(2));
      await settle();
      await settle();
      expect(h.serverStream.destroyed).toBe(false);
      expect(h.serverStream.readableLength).toBe(0);
      expect(h.closes).toEqual([]);
      h.client.stream.end();
      expect(await h.session.closed).toBe('server_shutdown');
      expect(h.closes).toEqual([{ reason: 'server_shutdown', detail: undefined }]);
      expect(h.published).toEqual([]);
    });

    it('destroys the stream after closeGraceMs when the client never ends its side', async () => {
      const h = await connectSession({ protocolVersion: 5, options: { closeGraceMs: 50 } });
      h.client.stream.allowHalfOpen = true;
      h.session.close('taken_over');
      expect(await h.session.closed).toBe('taken_over');
      expect(h.serverStream.destroyed).toBe(true);
      expect(h.client.packets.at(-1)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8e });
    });

    it('never writes the ack of a publish that resolves after close', async () => {
      const m = manualPublishes();
      const h = await connectSession({ hooks: m.hooks });
      h.client.send(publish(1));
      await settle();
      const write = vi.spyOn(h.serverStream, 'write');
      h.session.close('taken_over');
      m.calls[0]!.outcome.resolve({ kind: 'accepted' });
      await h.session.drain();
      await settle();
      // Only the close itself may have written (nothing, for 3.1.1); no PUBACK after close.
      expect(write).not.toHaveBeenCalled();
    });
  });

  describe('malformed and oversize input', () => {
    it('malformed bytes close only that session, with DISCONNECT 0x81 for MQTT 5', async () => {
      const bad = await connectSession({ protocolVersion: 5 });
      const good = await connectSession({ protocolVersion: 5 });
      // PUBLISH with both QoS bits set is malformed [MQTT-3.3.1-4].
      bad.client.sendRaw([0x36, 0x03, 0x00, 0x01, 0x74]);
      expect(await bad.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
      expect(await bad.closed).toBe('malformed_packet');
      good.client.send(publish(1));
      expect(await good.client.next()).toMatchObject({ cmd: 'puback', messageId: 1 });
    });

    it('malformed bytes before CONNECT: closed without a reply', async () => {
      const h = await connectSession({ protocolVersion: 4 });
      const fresh = await connectSession({ protocolVersion: 4 });
      fresh.client.sendRaw([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]);
      expect(await fresh.closed).toBe('malformed_packet');
      expect(fresh.client.pending()).toEqual([]);
      expect(h.session.isConnected).toBe(true);
    });

    it('MQTT 5: a packet above maxPacketSize gets DISCONNECT 0x95 from its fixed header alone', async () => {
      const m = manualPublishes();
      const h = await connectSession({ protocolVersion: 5, options: { maxPacketSize: 1024 }, hooks: m.hooks });
      // Fixed header of a 10 MB PUBLISH; the body never needs to arrive.
      h.client.sendRaw([0x32, 0x80, 0xad, 0xe2, 0x04]);
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x95 });
      expect(await h.closed).toBe('packet_too_large');
      expect(m.calls).toEqual([]);
    });

    it('3.1.1: an oversize packet closes the connection', async () => {
      const h = await connectSession({ protocolVersion: 4, options: { maxPacketSize: 1024 } });
      h.client.send(publish(1, Buffer.alloc(2000)));
      expect(await h.closed).toBe('packet_too_large');
      await h.client.closed;
      expect(h.client.pending()).toEqual([]);
      expect(h.published).toEqual([]);
    });

    it('a packet exactly at the limit is accepted', async () => {
      const h = await connectSession({ protocolVersion: 4, options: { maxPacketSize: 128 } });
      // 1 + 2 (length) + 21 (topic) + 2 (id) + 102 = 128 bytes.
      h.client.send(publish(1, Buffer.alloc(102)));
      expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1 });
    });
  });

  describe('pause() and resume()', () => {
    it('stops reading the stream and handling parsed packets, and resumes in order', async () => {
      const h = await connectSession();
      h.session.pause();
      expect(h.session.isPaused).toBe(true);
      expect(h.serverStream.isPaused()).toBe(true);
      h.client.send(publish(1));
      h.client.send(publish(2));
      await settle();
      await settle();
      expect(h.published).toEqual([]);
      expect(h.client.pending()).toEqual([]);
      h.session.resume();
      expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1 });
      expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 2 });
      expect(h.serverStream.isPaused()).toBe(false);
    });

    it('holds packets already parsed from the same chunk', async () => {
      const seen: string[] = [];
      const h = await connectSession({
        hooks: {
          onPublish: async (session, message) => {
            seen.push(message.topic);
            if (message.topic === 'a') session.pause();
            return { kind: 'accepted' };
          },
        },
      });
      const qos0 = (topic: string) =>
        generate({ cmd: 'publish', topic, payload: 'x', qos: 0, dup: false, retain: false });
      h.client.sendRaw(Buffer.concat([qos0('a'), qos0('b')]));
      await settle();
      await settle();
      expect(seen).toEqual(['a']);
      h.session.resume();
      await settle();
      expect(seen).toEqual(['a', 'b']);
    });

    it('still writes the acks of publishes already in flight', async () => {
      const m = manualPublishes();
      const h = await connectSession({ hooks: m.hooks });
      h.client.send(publish(1));
      await settle();
      h.session.pause();
      m.calls[0]!.outcome.resolve({ kind: 'accepted' });
      expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1 });
    });
  });

  describe('drain()', () => {
    it('resolves once every in-flight publish settled and its ack was written', async () => {
      const m = manualPublishes();
      const h = await connectSession({ hooks: m.hooks });
      h.client.send(publish(1));
      h.client.send(publish(2));
      await settle();
      h.session.pause();
      let drained = false;
      const drain = h.session.drain().then(() => {
        drained = true;
      });
      m.calls[0]!.outcome.resolve({ kind: 'accepted' });
      await settle();
      expect(drained).toBe(false);
      m.calls[1]!.outcome.resolve({ kind: 'accepted' });
      await drain;
      await settle();
      expect(h.client.packets.map((packet) => packet.messageId)).toEqual([undefined, 1, 2]);
    });

    it('resolves at once when nothing is in flight', async () => {
      const h = await connectSession();
      await expect(h.session.drain()).resolves.toBeUndefined();
    });
  });

  describe('keep-alive', () => {
    it('closes after 1.5 × keep-alive without a packet, with DISCONNECT 0x8D for MQTT 5 [MQTT-3.1.2-24]', async () => {
      vi.useFakeTimers();
      const h = await connectSession({ protocolVersion: 5, connect: { keepalive: 10 } });
      vi.advanceTimersByTime(14_999);
      expect(h.session.isConnected).toBe(true);
      vi.advanceTimersByTime(1);
      expect(h.session.isConnected).toBe(false);
      expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8d });
      expect(await h.closed).toBe('keepalive_timeout');
    });

    it('any packet restarts the period; PINGREQ gets PINGRESP', async () => {
      vi.useFakeTimers();
      const h = await connectSession({ connect: { keepalive: 10 } });
      vi.advanceTimersByTime(14_000);
      h.client.send({ cmd: 'pingreq' });
      expect(await h.client.next()).toMatchObject({ cmd: 'pingresp' });
      vi.advanceTimersByTime(14_000);
      expect(h.session.isConnected).toBe(true);
      vi.advanceTimersByTime(1_000);
      expect(h.session.isConnected).toBe(false);
    });

    it('does not run against the client while the session is paused', async () => {
      vi.useFakeTimers();
      const h = await connectSession({ connect: { keepalive: 1 } });
      h.session.pause();
      vi.advanceTimersByTime(60_000);
      expect(h.session.isConnected).toBe(true);
      h.session.resume();
      vi.advanceTimersByTime(1_499);
      expect(h.session.isConnected).toBe(true);
      // Keep-alives are looked at once per KEEP_ALIVE_RESOLUTION_MS: never early, at most that much late.
      vi.advanceTimersByTime(KEEP_ALIVE_RESOLUTION_MS);
      expect(h.session.isConnected).toBe(false);
    });

    it('keep-alive 0 disables the timeout', async () => {
      vi.useFakeTimers();
      const h = await connectSession({ connect: { keepalive: 0 } });
      vi.advanceTimersByTime(24 * 3600 * 1000);
      expect(h.session.isConnected).toBe(true);
    });

    it('closes on real timers too (keep-alive 1 s, grace factor scaled down)', async () => {
      const h = await connectSession({ connect: { keepalive: 1 }, options: { keepAliveGraceFactor: 0.15 } });
      const started = Date.now();
      expect(await h.closed).toBe('keepalive_timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });
});
