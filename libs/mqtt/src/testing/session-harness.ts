import type { Duplex } from 'node:stream';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import type { CloseReason } from '../close-reason.js';
import { KeepAliveWheel } from '../keep-alive.timer.js';
import { MqttSession } from '../mqtt-session.js';
import type {
  InboundMessage,
  MqttSessionHooks,
  MqttSessionOptions,
  PublishOutcome,
  WillMessage,
} from '../mqtt-session.types.js';
import { createDuplexPair } from './duplex-pair.js';
import { RawMqttClient } from './raw-mqtt-client.js';

export const TEST_OPTIONS: MqttSessionOptions = {
  maxPacketSize: 64 * 1024,
  connectTimeoutMs: 2000,
  keepAliveGraceFactor: 1.5,
};

export interface SessionHarness {
  session: MqttSession;
  client: RawMqttClient;
  /** The session's end of the pair, to inspect flow state or spy on writes. */
  serverStream: Duplex;
  published: InboundMessage[];
  wills: Array<{ will: WillMessage; reason: CloseReason }>;
  outboundAcks: Array<{ messageId: number; tag: unknown; reasonCode: number }>;
  subscribed: Array<[string, number]>;
  closes: Array<{ reason: CloseReason; detail: string | undefined }>;
  /** Resolves with the reason passed to onClose. */
  closed: Promise<CloseReason>;
}

export interface HarnessParams {
  protocolVersion?: 4 | 5;
  options?: Partial<MqttSessionOptions>;
  hooks?: Partial<MqttSessionHooks>;
}

/** A session on one end of an in-memory pair and a raw mqtt-packet client on the other; hooks record calls. */
export function startSession(params: HarnessParams = {}): SessionHarness {
  const [serverStream, clientStream] = createDuplexPair();
  let onClosed: (reason: CloseReason) => void = () => {};
  const harness: Omit<SessionHarness, 'session' | 'client' | 'serverStream'> = {
    published: [],
    wills: [],
    outboundAcks: [],
    subscribed: [],
    closes: [],
    closed: new Promise((resolve) => {
      onClosed = resolve;
    }),
  };
  const hooks: MqttSessionHooks = {
    authenticate: async () => ({ ok: true, deviceId: 'device-1' }),
    onPublish: async (_session, message) => {
      harness.published.push(message);
      return { kind: 'accepted' };
    },
    authorizeSubscribe: () => ({ granted: true, qos: 1 }),
    onSubscribed: (_session, filter, qos) => harness.subscribed.push([filter, qos]),
    onOutboundAck: (_session, messageId, tag, reasonCode) => harness.outboundAcks.push({ messageId, tag, reasonCode }),
    onWill: (_session, will, reason) => harness.wills.push({ will, reason }),
    ...params.hooks,
    onClose: (session, reason, detail) => {
      harness.closes.push({ reason, detail });
      params.hooks?.onClose?.(session, reason, detail);
      onClosed(reason);
    },
  };
  // A wheel of its own: a session another test left open must not hold a wheel ticking on that test's fake timers.
  const options = { ...TEST_OPTIONS, keepAliveWheel: new KeepAliveWheel(), ...params.options };
  const session = new MqttSession(serverStream, options, hooks);
  const client = new RawMqttClient(clientStream, params.protocolVersion ?? 4);
  return { ...harness, session, client, serverStream };
}

export function connectPacket(protocolVersion: 4 | 5, overrides: Partial<IConnectPacket> = {}): IConnectPacket {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion,
    clientId: 'client-1',
    clean: true,
    keepalive: 0,
    ...overrides,
  };
}

/** startSession, then CONNECT and wait for the CONNACK. */
export async function connectSession(
  params: HarnessParams & { connect?: Partial<IConnectPacket> } = {},
): Promise<SessionHarness & { connack: IConnackPacket }> {
  const harness = startSession(params);
  harness.client.send(connectPacket(params.protocolVersion ?? 4, params.connect));
  const connack = (await harness.client.next()) as IConnackPacket;
  return { ...harness, connack };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = PublishOutcome>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued nextTicks, microtasks and in-memory deliveries run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Hooks whose onPublish promises the test settles by hand. */
export function manualPublishes() {
  const calls: Array<{ message: InboundMessage; outcome: Deferred<PublishOutcome> }> = [];
  const onPublish = (_session: unknown, message: InboundMessage) => {
    const outcome = deferred<PublishOutcome>();
    calls.push({ message, outcome });
    return outcome.promise;
  };
  return { calls, hooks: { onPublish } };
}
