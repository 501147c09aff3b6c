import { describe, expect, it } from 'vitest';
import { connectSession, deferred } from '../testing/session-harness.js';

describe('PINGREQ', () => {
  it('answers PINGRESP with the raw two-byte packet', async () => {
    const h = await connectSession();
    h.client.sendRaw([0xc0, 0x00]);
    expect(await h.client.next()).toMatchObject({ cmd: 'pingresp' });
    expect(h.client.chunks.at(-1)).toEqual(Buffer.from([0xd0, 0x00]));
  });

  it('is not held behind a publish still being stored', async () => {
    const stuck = deferred();
    const h = await connectSession({ hooks: { onPublish: () => stuck.promise } });
    h.client.send({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
    });
    h.client.send({ cmd: 'pingreq' });
    expect(await h.client.next()).toMatchObject({ cmd: 'pingresp' });
    stuck.resolve({ kind: 'accepted' });
    expect(await h.client.next()).toMatchObject({ cmd: 'puback', messageId: 1 });
  });
});
