import { describe, expect, it } from 'vitest';
import { connectSession } from '../testing/session-harness.js';

describe('UNSUBSCRIBE', () => {
  it('5: removes the filter and answers 0x00, or 0x11 when no subscription existed', async () => {
    const h = await connectSession({ protocolVersion: 5 });
    h.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'devices/1/commands', qos: 1 }] });
    await h.client.next();
    h.client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['devices/1/commands', 'other'] });
    expect(await h.client.next()).toMatchObject({ cmd: 'unsuback', messageId: 2, granted: [0x00, 0x11] });
    expect(h.session.subscriptions.size).toBe(0);
  });

  it('3.1.1: answers a bare UNSUBACK', async () => {
    const h = await connectSession({ protocolVersion: 4 });
    h.client.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['x'] });
    expect(await h.client.next()).toMatchObject({ cmd: 'unsuback', messageId: 9 });
    expect(h.client.chunks.at(-1)).toEqual(Buffer.from([0xb0, 0x02, 0x00, 0x09]));
  });
});
