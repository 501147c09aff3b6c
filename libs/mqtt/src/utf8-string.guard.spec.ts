import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it, vi } from 'vitest';
import { connectPacket, connectSession, settle, startSession } from './testing/session-harness.js';
import { isWellFormedMqttString } from './utf8-string.guard.js';

const MARKER = 'QQQ';
/** Not UTF-8 at all: 0xFF never occurs in UTF-8. */
const INVALID = Buffer.from([0x61, 0xff, 0x62]);
/** U+D800 encoded as if it were a character (CESU-8 style): ill-formed UTF-8 [MQTT-1.5.4-1]. */
const SURROGATE = Buffer.from([0xed, 0xa0, 0x80]);
/** U+0000, well-formed UTF-8 but forbidden in an MQTT string [MQTT-1.5.4-2]. */
const NUL = Buffer.from([0x61, 0x00, 0x62]);

/**
 * The packet's bytes with the three-byte MARKER in one of its strings replaced by `bytes`, as a client that does
 * not check its strings would send them (mqtt-packet, like most encoders, cannot produce such bytes).
 */
function withStringBytes(packet: Packet, protocolVersion: 4 | 5, bytes: Buffer): Buffer {
  const encoded = generate(packet, { protocolVersion });
  const at = encoded.indexOf(MARKER);
  if (at < 0 || bytes.length !== MARKER.length) throw new Error('marker not found');
  bytes.copy(encoded, at);
  return encoded;
}

const publishTo = (topic: string, properties?: Record<string, unknown>): Packet => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from('{}'),
  qos: 1,
  messageId: 1,
  dup: false,
  retain: false,
  ...(properties ? { properties } : {}),
});

describe('UTF-8 Encoded Strings [MQTT-1.5.4]', () => {
  it.each([
    ['not UTF-8', INVALID],
    ['an encoded surrogate', SURROGATE],
    ['U+0000', NUL],
  ])('MQTT 5: a PUBLISH topic with %s is a Malformed Packet: DISCONNECT 0x81, not stored', async (_name, bytes) => {
    const h = await connectSession({ protocolVersion: 5 });
    h.client.sendRaw(withStringBytes(publishTo(`devices/1/${MARKER}`), 5, bytes));
    expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
    expect(await h.closed).toBe('malformed_packet');
    expect(h.published).toEqual([]);
  });

  it('3.1.1: a PUBLISH topic that is not UTF-8 closes the connection [MQTT-1.5.3-1]', async () => {
    const h = await connectSession({ protocolVersion: 4 });
    h.client.sendRaw(withStringBytes(publishTo(`devices/1/${MARKER}`), 4, INVALID));
    expect(await h.closed).toBe('malformed_packet');
    await h.client.closed;
    expect(h.client.pending()).toEqual([]);
    expect(h.published).toEqual([]);
  });

  it.each([4, 5] as const)(
    'MQTT %s: a CONNECT client id that is not UTF-8: closed without CONNACK',
    async (version) => {
      const authenticate = vi.fn(async () => ({ ok: true as const, deviceId: 'd' }));
      const h = startSession({ protocolVersion: version, hooks: { authenticate } });
      h.client.sendRaw(withStringBytes(connectPacket(version, { clientId: `c-${MARKER}` }), version, INVALID));
      expect(await h.closed).toBe('malformed_packet');
      await h.client.closed;
      expect(h.client.packets).toEqual([]);
      expect(authenticate).not.toHaveBeenCalled();
    },
  );

  it('a CONNECT user name with an encoded surrogate: closed without CONNACK', async () => {
    const h = startSession({ protocolVersion: 5 });
    h.client.sendRaw(withStringBytes(connectPacket(5, { username: MARKER, password: Buffer.from('t') }), 5, SURROGATE));
    expect(await h.closed).toBe('malformed_packet');
    expect(h.client.packets).toEqual([]);
  });

  it('MQTT 5: an ill-formed string property (Content Type) is a Malformed Packet too', async () => {
    const h = await connectSession({ protocolVersion: 5 });
    h.client.sendRaw(withStringBytes(publishTo('devices/1/telemetry', { contentType: MARKER }), 5, INVALID));
    expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
    expect(h.published).toEqual([]);
  });

  it('MQTT 5: an ill-formed SUBSCRIBE filter is a Malformed Packet', async () => {
    const h = await connectSession({ protocolVersion: 5 });
    const subscribe: Packet = { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `a/${MARKER}`, qos: 1 }] };
    h.client.sendRaw(withStringBytes(subscribe, 5, SURROGATE));
    expect(await h.client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
    expect(h.subscribed).toEqual([]);
  });

  it('accepts a well-formed multi-byte topic, split across writes inside a character', async () => {
    const h = await connectSession({ protocolVersion: 5 });
    const topic = 'devices/1/température/温度/🌡';
    const bytes = generate(publishTo(topic), { protocolVersion: 5 });
    const split = bytes.indexOf(Buffer.from('🌡')) + 2;
    h.client.sendRaw(bytes.subarray(0, split));
    await settle();
    h.client.sendRaw(bytes.subarray(split));
    expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0 });
    expect(h.published.map((message) => message.topic)).toEqual([topic]);
    expect(h.session.isConnected).toBe(true);
  });
});

describe('isWellFormedMqttString', () => {
  it.each([
    ['', true],
    ['ascii', true],
    ['é€😀', true],
  ])('%j is well-formed', (text, expected) => {
    expect(isWellFormedMqttString(Buffer.from(text))).toBe(expected);
  });

  it.each([
    ['0xFF', [0xff]],
    ['a truncated two-byte sequence', [0xc3]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an overlong U+0000', [0xc0, 0x80]],
    ['U+D800', [0xed, 0xa0, 0x80]],
    ['U+DFFF', [0xed, 0xbf, 0xbf]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['U+0000', [0x00]],
  ])('%s is not', (_name, bytes) => {
    expect(isWellFormedMqttString(Buffer.from(bytes))).toBe(false);
  });
});
