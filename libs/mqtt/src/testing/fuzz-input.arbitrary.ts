import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';

/**
 * fast-check arbitraries for fuzzing an MqttSession: a client's byte stream (valid packets encoded by
 * mqtt-packet, then possibly mutated) split into chunks, and a script for the hooks' answers.
 */

export type HookTiming = 'now' | 'later';

export type AuthAnswer = 'ok' | 'bad_credentials' | 'not_authorized' | 'server_unavailable' | 'throw' | 'reject';

export type PublishAnswer =
  | 'accepted'
  | 'invalid_payload'
  | 'not_authorized'
  | 'refused'
  | 'unavailable'
  | 'shutting_down'
  | 'throw'
  | 'reject';

export interface HookScript {
  auth: AuthAnswer;
  authTiming: HookTiming;
  /** onPublish answers, by call number (cycled). */
  publishes: Array<{ answer: PublishAnswer; timing: HookTiming }>;
  /** authorizeSubscribe answers, by call number (cycled): a granted QoS, refusal, or a throw. */
  subscribes: Array<0 | 1 | 'refuse' | 'throw'>;
  /** onSubscribed publishes a message to the client, as the hub sends a waiting command. */
  publishOnSubscribe: boolean;
  /** onPublish pauses the session and resumes it a macrotask later, as rate limiting does. */
  pauseOnPublish: boolean;
}

export type Mutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; bits: Array<{ at: number; bit: number }> }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  /** Random bytes, after the first packet (usually the CONNECT) or instead of everything. */
  | { kind: 'random'; afterFirst: boolean; bytes: Uint8Array };

export interface FuzzCase {
  protocolVersion: 4 | 5;
  packets: Buffer[];
  mutation: Mutation;
  /** Chunk boundaries, as offsets modulo the input length. */
  splits: number[];
  /** Whether the driver lets a macrotask pass after each chunk (cycled). */
  yields: boolean[];
  hooks: HookScript;
}

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', 'me', 'device-1', 'Zürich', '🌡'),
);

const topicName = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('devices/1/telemetry', 'devices/me/state', 'a/b', 'x') },
  fc.constantFrom('', '/', '+', '#', 'a/+', 'a/#', '$share/g/a', '$SYS/x', 'x\u0000y', 'a//b'),
  text,
);

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((array) => Buffer.from(array));
/** Mostly a few small ids, so that QoS 2 duplicates, PUBRELs and PUBACKs meet the packets they refer to. */
const packetId = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 65_535 }));
const userProperties = fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 });

const connectProperties = fc.record(
  {
    sessionExpiryInterval: fc.nat(),
    receiveMaximum: fc.integer({ min: 1, max: 65_535 }),
    // Small ones too: our CONNACK and acknowledgements must still fit, or not be sent.
    maximumPacketSize: fc.oneof(
      fc.integer({ min: 1, max: 64 }),
      { weight: 2, arbitrary: fc.integer({ min: 64, max: 256 }) },
      { weight: 3, arbitrary: fc.integer({ min: 256, max: 1 << 20 }) },
    ),
    topicAliasMaximum: fc.nat({ max: 65_535 }),
    requestProblemInformation: fc.boolean(),
    requestResponseInformation: fc.boolean(),
    userProperties,
  },
  { requiredKeys: [] },
);

const publishProperties = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: fc.nat(),
    // Refused: CONNACK says Topic Alias Maximum 0.
    topicAlias: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, fc.integer({ min: 1, max: 10 })),
    responseTopic: topicName,
    correlationData: bytes(8),
    userProperties,
    contentType: text,
  },
  { requiredKeys: [] },
);

function connect(protocolVersion: 4 | 5): fc.Arbitrary<Packet> {
  return fc
    .record({
      clientId: fc.oneof(fc.constant(''), text),
      clean: fc.boolean(),
      keepalive: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3600 })),
      username: fc.option(text, { nil: undefined }),
      password: fc.option(bytes(12), { nil: undefined }),
      will: fc.option(
        fc.record({
          topic: topicName,
          payload: bytes(16),
          qos: fc.constantFrom(0, 1, 2),
          retain: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
        }),
        { nil: undefined },
      ),
      properties: protocolVersion === 5 ? fc.option(connectProperties, { nil: undefined }) : fc.constant(undefined),
      // Enhanced authentication, which the session refuses.
      authenticationMethod: fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, fc.constant('SCRAM-SHA-1')),
      level: fc.oneof({ weight: 10, arbitrary: fc.constant(protocolVersion) }, fc.constant(3)),
    })
    .map(({ level, authenticationMethod, ...fields }) => {
      if (protocolVersion === 5 && authenticationMethod) {
        fields.properties = { ...fields.properties, authenticationMethod } as typeof fields.properties;
      }
      // mqtt-packet refuses to encode these (the session's own checks are reached through mutations).
      if (fields.password !== undefined && fields.username === undefined) fields.username = 'u';
      if (fields.clientId === '' && (!fields.clean || level === 3)) fields.clientId = 'c';
      const packet: Record<string, unknown> = {
        cmd: 'connect',
        protocolId: level === 3 ? 'MQIsdp' : 'MQTT',
        protocolVersion: level,
        ...fields,
      };
      for (const key of Object.keys(packet)) if (packet[key] === undefined) delete packet[key];
      return packet as unknown as Packet;
    });
}

function laterPacket(protocolVersion: 4 | 5): fc.Arbitrary<Packet> {
  const v5 = protocolVersion === 5;
  const reasonCode = fc.constantFrom(0, 0x04, 0x80, 0x8e, 0x97);
  const optional = <T>(arbitrary: fc.Arbitrary<T>) =>
    v5 ? fc.option(arbitrary, { nil: undefined }) : fc.constant(undefined);
  const publish = fc
    .record({
      topic: topicName,
      payload: bytes(24),
      qos: fc.constantFrom(0, 1, 2),
      messageId: packetId,
      dup: fc.boolean(),
      retain: fc.boolean(),
      properties: optional(publishProperties),
    })
    .map(({ qos, messageId, properties, ...rest }) => ({
      cmd: 'publish',
      qos,
      ...(qos > 0 ? { messageId } : {}),
      ...(properties ? { properties: withoutUndefined(properties) } : {}),
      ...rest,
    }));
  const subscription = fc.record({
    topic: topicName,
    qos: fc.constantFrom(0, 1, 2),
    ...(v5 ? { nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2) } : {}),
  });
  const acks = fc.record({
    cmd: fc.constantFrom('puback', 'puback', 'pubrel', 'pubrel', 'pubrec', 'pubcomp'),
    messageId: packetId,
    reasonCode: optional(fc.constantFrom(0, 0x10, 0x80, 0x92)),
  });
  const subscribe = fc.record({
    cmd: fc.constant('subscribe'),
    messageId: packetId,
    subscriptions: fc.array(subscription, { minLength: 1, maxLength: 3 }),
  });
  const unsubscribe = fc.record({
    cmd: fc.constant('unsubscribe'),
    messageId: packetId,
    unsubscriptions: fc.array(topicName, { minLength: 1, maxLength: 2 }),
  });
  // Mostly what a device sends; now and then what ends a session or what a client must not send at all.
  const kinds: Array<fc.WeightedArbitrary<unknown>> = [
    { weight: 12, arbitrary: publish },
    { weight: 3, arbitrary: subscribe },
    { weight: 1, arbitrary: unsubscribe },
    { weight: 3, arbitrary: fc.constant({ cmd: 'pingreq' }) },
    { weight: 2, arbitrary: acks },
    { weight: 1, arbitrary: fc.record({ cmd: fc.constant('disconnect'), reasonCode: optional(reasonCode) }) },
    { weight: 1, arbitrary: connect(protocolVersion) },
    // Server-to-client packets.
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { cmd: 'pingresp' },
        { cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false },
        ...(v5 ? [{ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'x' } }] : []),
      ),
    },
  ];
  return fc.oneof(...kinds).map((packet) => withoutUndefined(packet as Record<string, unknown>) as unknown as Packet);
}

function withoutUndefined(packet: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(packet).filter(([, value]) => value !== undefined));
}

/** Encodes with mqtt-packet; packets it refuses to encode (invalid field combinations) are left out. */
function encode(packet: Packet, protocolVersion: 4 | 5): Buffer | undefined {
  try {
    return generate(packet, { protocolVersion });
  } catch {
    return undefined;
  }
}

const position = fc.nat({ max: 1 << 16 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      bits: fc.array(fc.record({ at: position, bit: fc.nat({ max: 7 }) }), { minLength: 1, maxLength: 4 }),
    }),
  },
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('random' as const),
    afterFirst: fc.boolean(),
    bytes: fc.uint8Array({ maxLength: 96 }),
  }),
);

const timing = fc.constantFrom<HookTiming>('now', 'now', 'later');

const hookScript: fc.Arbitrary<HookScript> = fc.record({
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.constant<AuthAnswer>('ok') },
    fc.constantFrom<AuthAnswer>('bad_credentials', 'not_authorized', 'server_unavailable', 'throw', 'reject'),
  ),
  authTiming: timing,
  publishes: fc.array(
    fc.record({
      answer: fc.oneof(
        { weight: 6, arbitrary: fc.constant<PublishAnswer>('accepted') },
        fc.constantFrom<PublishAnswer>(
          'invalid_payload',
          'not_authorized',
          'refused',
          'unavailable',
          'shutting_down',
          'throw',
          'reject',
        ),
      ),
      timing,
    }),
    { minLength: 1, maxLength: 4 },
  ),
  subscribes: fc.array(fc.constantFrom<0 | 1 | 'refuse' | 'throw'>(0, 1, 1, 'refuse', 'throw'), {
    minLength: 1,
    maxLength: 3,
  }),
  publishOnSubscribe: fc.boolean(),
  pauseOnPublish: fc.boolean(),
});

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.constantFrom<4 | 5>(4, 5).chain((protocolVersion) =>
  fc.record({
    protocolVersion: fc.constant(protocolVersion),
    packets: fc
      .tuple(connect(protocolVersion), fc.array(laterPacket(protocolVersion), { maxLength: 6 }))
      .map(([first, rest]) =>
        [first, ...rest]
          .map((packet) => encode(packet, protocolVersion))
          .filter((encoded): encoded is Buffer => encoded !== undefined),
      ),
    mutation,
    splits: fc.array(position, { maxLength: 6 }),
    yields: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
    hooks: hookScript,
  }),
);

/** The bytes the client sends: the packets, mutated. */
export function clientBytes(fuzz: FuzzCase): Buffer {
  const input = Buffer.concat(fuzz.packets);
  const m = fuzz.mutation;
  const at = (offset: number, length = input.length) => (length === 0 ? 0 : offset % (length + 1));
  switch (m.kind) {
    case 'none':
      return input;
    case 'truncate':
      return input.subarray(0, at(m.at));
    case 'flip': {
      const flipped = Buffer.from(input);
      if (flipped.length === 0) return flipped;
      for (const { at: offset, bit } of m.bits) flipped[offset % flipped.length]! ^= 1 << bit;
      return flipped;
    }
    case 'insert': {
      const i = at(m.at);
      return Buffer.concat([input.subarray(0, i), m.bytes, input.subarray(i)]);
    }
    case 'delete': {
      const i = at(m.at);
      return Buffer.concat([input.subarray(0, i), input.subarray(i + m.length)]);
    }
    case 'random':
      return Buffer.concat([m.afterFirst ? (fuzz.packets[0] ?? Buffer.alloc(0)) : Buffer.alloc(0), m.bytes]);
  }
}

/** `bytes` cut at the case's split points. */
export function chunksOf(bytes: Buffer, splits: number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const cuts = [...new Set(splits.map((split) => split % bytes.length).filter((cut) => cut > 0))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}
