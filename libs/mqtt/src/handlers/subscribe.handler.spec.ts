import type { ISubscribePacket } from 'mqtt-packet';
import { describe, expect, it, vi } from 'vitest';
import type { Qos, SubscribeDecision } from '../mqtt-session.types.js';
import { connectSession } from '../testing/session-harness.js';

const subscribe = (
  subscriptions: Array<[string, Qos]>,
  overrides: Partial<ISubscribePacket> = {},
): ISubscribePacket => ({
  cmd: 'subscribe',
  messageId: 11,
  subscriptions: subscriptions.map(([topic, qos]) => ({ topic, qos })),
  ...overrides,
});

/** Grants devices/1/commands (up to QoS 1) and refuses everything else. */
const authorizeSubscribe = vi.fn(
  (_session: unknown, filter: string): SubscribeDecision =>
    filter === 'devices/1/commands' ? { granted: true, qos: 1 } : { granted: false },
);

describe('SUBSCRIBE', () => {
  it('3.1.1: grants min(requested, allowed) and answers 0x80 for refused filters', async () => {
    const h = await connectSession({ protocolVersion: 4, hooks: { authorizeSubscribe } });
    h.client.send(
      subscribe([
        ['devices/1/commands', 2],
        ['devices/2/commands', 1],
        ['devices/1/commands/+', 0],
      ]),
    );
    expect(await h.client.next()).toMatchObject({ cmd: 'suback', messageId: 11, granted: [1, 0x80, 0x80] });
    expect([...h.session.subscriptions]).toEqual([['devices/1/commands', 1]]);
  });

  it('5: 0x87 for refused filters, 0xA2 for wildcards, 0x9E for shared, 0x8F for invalid filters', async () => {
    const h = await connectSession({ protocolVersion: 5, hooks: { authorizeSubscribe } });
    h.client.send(
      subscribe([
        ['devices/1/commands', 0],
        ['devices/2/commands', 1],
        ['devices/+/commands', 1],
        ['$share/g/devices/1/commands', 1],
        ['devices/#/x', 1],
      ]),
    );
    expect(await h.client.next()).toMatchObject({ cmd: 'suback', granted: [0, 0x87, 0xa2, 0x9e, 0x8f] });
    expect([...h.session.subscriptions]).toEqual([['devices/1/commands', 0]]);
  });

  it('5: refuses subscription identifiers (0xA1), which CONNACK said are unavailable', async () => {
    const h = await connectSession({ protocolVersion: 5, hooks: { authorizeSubscribe } });
    h.client.send(subscribe([['devices/1/commands', 1]], { properties: { subscriptionIdentifier: 4 } }));
    expect(await h.client.next()).toMatchObject({ cmd: 'suback', granted: [0xa1] });
    expect(h.session.subscriptions.size).toBe(0);
  });

  it('calls onSubscribed after the SUBACK, so a command published from it follows the SUBACK', async () => {
    const h = await connectSession({
      protocolVersion: 5,
      hooks: {
        authorizeSubscribe,
        onSubscribed: (session, filter, qos) => {
          session.publish({ topic: filter, payload: 'reboot', qos });
        },
      },
    });
    h.client.send(subscribe([['devices/1/commands', 1]]));
    expect(await h.client.next()).toMatchObject({ cmd: 'suback', granted: [1] });
    expect(await h.client.next()).toMatchObject({ cmd: 'publish', topic: 'devices/1/commands', qos: 1 });
  });

  it('closes only this session when authorizeSubscribe throws', async () => {
    const h = await connectSession({
      hooks: {
        authorizeSubscribe: () => {
          throw new Error('acl bug');
        },
      },
    });
    h.client.send(subscribe([['devices/1/commands', 1]]));
    expect(await h.closed).toBe('internal_error');
    expect(h.client.pending()).toEqual([]);
  });
});
