import { describe, expect, it } from 'vitest';
import { type ClusterMessage, packMessages, unpackPayload } from './cluster-message.js';

const FROM = '0190b3a4-0000-7000-8000-000000000001';
const taken = (n: number): ClusterMessage => ({
  kind: 'session_taken_over',
  to: '0190b3a4-0000-7000-8000-000000000002',
  deviceId: `0190b3a4-0000-7000-8000-${String(n).padStart(12, '0')}`,
  sessionId: `0190b3a4-0000-7000-9000-${String(n).padStart(12, '0')}`,
});

describe('cluster messages', () => {
  it('packs messages into payloads no larger than the limit, in order, and unpacks them', () => {
    const messages = Array.from({ length: 200 }, (_, i) => taken(i));
    const { payloads, oversized } = packMessages(FROM, messages, 1000);
    expect(oversized).toEqual([]);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(1000);
    const unpacked = payloads.map((payload) => unpackPayload(payload)!);
    expect(unpacked.every((envelope) => envelope.from === FROM)).toBe(true);
    expect(unpacked.flatMap((envelope) => envelope.messages)).toEqual(messages);
  });

  it('fills each payload: one message more would not have fit', () => {
    const messages = Array.from({ length: 50 }, (_, i) => taken(i));
    const { payloads } = packMessages(FROM, messages, 1000);
    const one = Buffer.byteLength(JSON.stringify(messages[0]));
    for (const payload of payloads.slice(0, -1)) expect(Buffer.byteLength(payload) + 1 + one).toBeGreaterThan(1000);
  });

  it('leaves out a message that alone exceeds the limit, and sends the rest', () => {
    const { payloads, oversized } = packMessages(FROM, [taken(1), taken(2)], 150);
    expect(payloads).toEqual([]);
    expect(oversized).toHaveLength(2);
    expect(packMessages(FROM, [], 1000)).toEqual({ payloads: [], oversized: [] });
  });

  it('refuses payloads that are not an envelope and skips messages it does not know', () => {
    expect(unpackPayload('not json')).toBeUndefined();
    expect(unpackPayload('{"messages":[]}')).toBeUndefined();
    expect(unpackPayload(JSON.stringify({ from: 'x', messages: [] }))).toBeUndefined();
    const envelope = unpackPayload(
      JSON.stringify({
        from: FROM,
        messages: [
          { kind: 'from_a_later_version', deviceId: FROM },
          { kind: 'device_access_changed', deviceId: FROM, close: 'exploded' },
          { kind: 'device_access_changed', deviceId: FROM, close: 'not_authorized' },
          { kind: 'device_access_changed', deviceId: FROM },
        ],
      }),
    );
    expect(envelope?.messages).toEqual([
      { kind: 'device_access_changed', deviceId: FROM, close: 'not_authorized' },
      { kind: 'device_access_changed', deviceId: FROM },
    ]);
  });

  it('carries admin points, events and interest, and skips malformed ones', () => {
    const messages: ClusterMessage[] = [
      { kind: 'admin_interest_changed', instance: FROM, version: 3 },
      { kind: 'admin_interest_seen', from: FROM, to: FROM, version: 3 },
      { kind: 'admin_points', xid: '812', series: [{ deviceId: FROM, metric: 't', times: [1, 2], values: [3, 4] }] },
      { kind: 'admin_points', series: [{ deviceId: FROM, metric: 't', times: [1], values: [3], dropped: 9 }] },
      { kind: 'admin_event', event: { type: 'state', deviceId: FROM, updatedAt: 5 } },
      {
        kind: 'admin_event',
        event: { type: 'device_event', deviceId: FROM, eventType: 'connected', detail: { node: 'a' }, at: 6 },
      },
    ];
    const { payloads } = packMessages(FROM, messages, 7500);
    expect(unpackPayload(payloads[0]!)?.messages).toEqual(messages);
    const bad = [
      { kind: 'admin_points', xid: 'x1', series: [] },
      { kind: 'admin_points', series: [{ deviceId: FROM, metric: 't', times: [1, 2], values: [3] }] },
      { kind: 'admin_event', event: { type: 'presence', deviceId: FROM } },
    ];
    expect(unpackPayload(JSON.stringify({ from: FROM, messages: bad }))?.messages).toEqual([]);
  });
});
