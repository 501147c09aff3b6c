import { generate, type IPublishPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { PublishOutcome } from '../mqtt-session.types.js';
import { connectSession, manualPublishes, settle } from '../testing/session-harness.js';

const qos2 = (messageId: number, dup = false): IPublishPacket => ({
  cmd: 'publish',
  topic: 'devices/1/telemetry',
  payload: Buffer.from('{"n":1}'),
  qos: 2,
  messageId,
  dup,
  retain: false,
});

const accepted: PublishOutcome = { kind: 'accepted' };

/** Several packets in one chunk, as they arrive in one TCP segment: the session reads them in one go. */
const together = (...packets: Packet[]) => Buffer.concat(packets.map((packet) => generate(packet)));

describe('PUBREL', () => {
  // PUBCOMP ends the QoS 2 flow of its packet id [MQTT-4.3.3]: written before that id's PUBREC, it would let the
  // client reuse the id and then take the late PUBREC for the new message.
  it('answers a PUBREL that comes while the PUBREC still waits for the store after that PUBREC', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    // A client that does not wait for the PUBREC before it sends the PUBREL.
    h.client.sendRaw(together(qos2(7), { cmd: 'pubrel', messageId: 7 }));
    await settle();
    await settle();
    expect(m.calls).toHaveLength(1);
    expect(h.client.pending()).toEqual([]);
    m.calls[0]!.outcome.resolve(accepted);
    expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
    expect(await h.client.next()).toMatchObject({ cmd: 'pubcomp', messageId: 7 });
  });

  it('answers a resent PUBLISH and the PUBREL behind it in that order, though the message was stored long ago', async () => {
    const m = manualPublishes();
    const h = await connectSession({ hooks: m.hooks });
    h.client.send(qos2(7));
    await settle();
    m.calls[0]!.outcome.resolve(accepted);
    expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
    // The client resent the PUBLISH before the PUBREC reached it, then got that PUBREC and released the id.
    h.client.sendRaw(together(qos2(7, true), { cmd: 'pubrel', messageId: 7 }));
    expect(await h.client.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
    expect(await h.client.next()).toMatchObject({ cmd: 'pubcomp', messageId: 7 });
    expect(m.calls).toHaveLength(1);
  });
});
