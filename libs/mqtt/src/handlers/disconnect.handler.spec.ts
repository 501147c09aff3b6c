import { describe, expect, it } from 'vitest';
import { connectSession } from '../testing/session-harness.js';

const will = { topic: 'devices/1/status', payload: Buffer.from('offline'), qos: 1 as const, retain: false };

describe('DISCONNECT and the will', () => {
  it('exposes the will from CONNECT on the session', async () => {
    const h = await connectSession({ connect: { will } });
    expect(h.session.will).toMatchObject({ topic: 'devices/1/status', payload: Buffer.from('offline'), qos: 1 });
  });

  it('a normal DISCONNECT discards the will [MQTT-3.14.4-3]', async () => {
    const h = await connectSession({ connect: { will } });
    h.client.send({ cmd: 'disconnect' });
    expect(await h.closed).toBe('client_disconnect');
    expect(h.wills).toEqual([]);
    expect(h.session.will).toBeUndefined();
  });

  it('an ungraceful close hands the will to onWill, before onClose', async () => {
    const order: string[] = [];
    const h = await connectSession({
      connect: { will },
      hooks: { onWill: () => order.push('will'), onClose: () => order.push('close') },
    });
    h.client.stream.destroy();
    expect(await h.closed).toBe('socket_closed');
    expect(order).toEqual(['will', 'close']);
  });

  it('MQTT 5 DISCONNECT 0x04 asks for the will to be published', async () => {
    const h = await connectSession({ protocolVersion: 5, connect: { will } });
    h.client.send({ cmd: 'disconnect', reasonCode: 0x04 });
    expect(await h.closed).toBe('client_disconnect');
    expect(h.wills.map((entry) => entry.will.topic)).toEqual(['devices/1/status']);
  });

  it('a takeover counts as ungraceful and passes its reason', async () => {
    const h = await connectSession({ protocolVersion: 5, connect: { will } });
    h.session.close('taken_over');
    await h.closed;
    expect(h.wills.map((entry) => entry.reason)).toEqual(['taken_over']);
  });
});
