import {
  classifyDeviceTopic,
  type DeviceTopic,
  deviceTopics,
  OWN_DEVICE_ALIAS,
  parseJsonText,
} from '@telehub/contracts';
import type {
  AuthenticateRequest,
  AuthenticateResult,
  CloseReason,
  InboundMessage,
  MqttSession,
  MqttSessionHooks,
  PublishOutcome,
  Qos,
  SubscribeDecision,
  WillMessage,
} from '@telehub/mqtt';
import { ReasonCode } from '@telehub/mqtt';
import { displayAddress } from '../../auth/source-address.js';
import type { ReplyOutcome } from '../../commands/command-delivery.service.js';
import type { IngestOutcome } from '../../ingest/ingest.service.js';
import { commandIdOf } from '../../mqtt-sessions/command-publish-tag.js';
import type { DeviceTransport } from '../../sessions/device-connection.js';
import type { DevicePort } from '../device-port.js';
import { MqttDeviceConnection } from './mqtt-device-connection.js';

export interface DeviceMqttServices {
  port: DevicePort;
  /** TELEHUB_JSON_MAX_DEPTH, for command results (telemetry and state are parsed by ingest). */
  maxJsonDepth: number;
}

const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The hub's side of one MQTT session: token authentication, topic access control, and handing
 * telemetry and state to ingest. Protocol mechanics live in @telehub/mqtt.
 */
export class DeviceMqttHooks implements MqttSessionHooks {
  private connection: MqttDeviceConnection | undefined;
  /** The last topic published to and its class: a device publishes to the same topic over and over. */
  private lastTopic: string | undefined;
  private lastTopicClass: DeviceTopic | undefined;

  constructor(
    private readonly services: DeviceMqttServices,
    private readonly transport: DeviceTransport,
    private readonly remoteAddress: string | undefined,
    /** Called once the CONNECT was answered or the connection ended, whichever comes first. */
    private handshakeOver: (() => void) | undefined,
  ) {}

  /** Releases the handshake's place, and the closure that does it, which would otherwise stay with the session. */
  private endHandshake(): void {
    const release = this.handshakeOver;
    this.handshakeOver = undefined;
    release?.();
  }

  async authenticate(request: AuthenticateRequest, session: MqttSession): Promise<AuthenticateResult> {
    try {
      return await this.authenticateDevice(request, session);
    } finally {
      this.endHandshake();
    }
  }

  private async authenticateDevice(request: AuthenticateRequest, session: MqttSession): Promise<AuthenticateResult> {
    const { port } = this.services;
    // The token is the password. Clients that can only set a username (some gateways) may put it there.
    const password = request.password?.toString('utf8');
    const tokenInUsername = !password && request.username?.startsWith('thd_');
    const token = tokenInUsername ? request.username : password;
    const attempt = { transport: this.transport, remoteAddress: this.remoteAddress, clientId: request.clientId };
    const result = await port.authenticate(token, attempt);
    // Too many failed attempts from this address: refused before the token was looked up.
    if (!result.ok && result.reason === 'throttled') return { ok: false, reason: 'connection_rate_exceeded' };
    if (!result.ok) return { ok: false, reason: 'bad_credentials' };
    // Otherwise the username is optional; when given it must name the token's own device (or be `me`).
    const username = tokenInUsername ? undefined : request.username;
    if (username && username !== result.deviceId && username !== 'me') {
      port.recordAuthFailure(attempt, 'username_mismatch', result.deviceId);
      return { ok: false, reason: 'bad_credentials' };
    }
    if (port.admitConnect(result.deviceId, this.transport) > 0) {
      return { ok: false, reason: 'connection_rate_exceeded', detail: 'the device connects too often' };
    }
    // Checked before the session opens: a refused CONNECT must not take over the device's live session.
    const willRefusal = request.will && this.checkWill(result.deviceId, request.will);
    if (willRefusal) return willRefusal;
    this.connection = new MqttDeviceConnection(session, result.deviceId, this.transport, {
      mqttProtocolLevel: request.protocolVersion,
      // The session's: the identifier the hub assigned when the client sent an empty one [MQTT-3.1.3-6].
      clientId: session.clientId ?? request.clientId,
      keepAliveSeconds: request.keepAliveSeconds,
      remoteAddress: displayAddress(this.remoteAddress),
    });
    await port.openSession(this.connection, { tokenId: result.tokenId, expiresAt: result.tokenExpiresAt });
    return { ok: true, deviceId: result.deviceId };
  }

  async onPublish(_session: MqttSession, message: InboundMessage): Promise<PublishOutcome> {
    const connection = this.connection!;
    const topic = this.classifyPublishTopic(message.topic, connection.deviceId);
    const { port } = this.services;
    if (topic.kind === 'command_result') {
      await port.admit(connection);
      if (!COMMAND_ID.test(topic.commandId)) {
        const refusal = `${message.topic}: a command id is a UUID`;
        port.recordRejected(connection.deviceId, this.transport, 'unknown_command', refusal);
        // A refusal, not a closed session: 0x87 for MQTT 5, acknowledged (and recorded) for 3.1.1.
        return { kind: 'refused', reasonCode: ReasonCode.notAuthorized, message: refusal };
      }
      return this.commandResult(connection.deviceId, topic.commandId, message.payload);
    }
    if (topic.kind !== 'telemetry' && topic.kind !== 'state') {
      port.recordRejected(connection.deviceId, this.transport, 'not_authorized', `may not publish to ${message.topic}`);
      return { kind: 'not_authorized' };
    }
    await port.admit(connection);
    const outcome =
      topic.kind === 'telemetry'
        ? await port.ingestTelemetry(connection.deviceId, this.transport, message.payload)
        : await port.reportState(connection.deviceId, this.transport, message.payload);
    return toPublishOutcome(outcome);
  }

  private classifyPublishTopic(topic: string, deviceId: string): DeviceTopic {
    if (topic !== this.lastTopic || this.lastTopicClass === undefined) {
      this.lastTopicClass = classifyDeviceTopic(topic, deviceId);
      this.lastTopic = topic;
    }
    return this.lastTopicClass;
  }

  authorizeSubscribe(_session: MqttSession, filter: string, qos: Qos): SubscribeDecision {
    const connection = this.connection!;
    if (classifyDeviceTopic(filter, connection.deviceId).kind === 'commands') {
      return { granted: true, qos: qos === 0 ? 0 : 1 };
    }
    this.services.port.recordRejected(
      connection.deviceId,
      this.transport,
      'not_authorized',
      `may not subscribe to ${filter}`,
    );
    return { granted: false };
  }

  /** Subscribed to its commands topic: the device gets what is waiting for it. */
  onSubscribed(_session: MqttSession, filter: string): void {
    const connection = this.connection;
    if (connection && classifyDeviceTopic(filter, connection.deviceId).kind === 'commands') {
      this.services.port.commandsReady(connection);
    }
  }

  /**
   * The device took up its session again (Session Present): it gets what its earlier connection left
   * unacknowledged and what waited meanwhile, on the subscription the session kept, without a new SUBSCRIBE.
   */
  onSessionResumed(): void {
    const connection = this.connection;
    if (connection?.acceptsCommands) this.services.port.commandsReady(connection);
  }

  /** PUBACK for a command: the device's transport has it ("delivered"). A failure reason code is not delivery. */
  onOutboundAck(_session: MqttSession, _messageId: number, tag: unknown, reasonCode: number): void {
    const connection = this.connection;
    const commandId = commandIdOf(tag);
    if (!connection || !commandId || reasonCode >= 0x80) return;
    void this.services.port.commandAcknowledged(connection.deviceId, commandId).catch(() => undefined);
  }

  private async commandResult(deviceId: string, commandId: string, payload: Buffer): Promise<PublishOutcome> {
    const json = parseJsonText(payload.toString('utf8'), this.services.maxJsonDepth);
    if (!json.ok) {
      const message = `a command result ${json.message}`;
      this.services.port.recordRejected(deviceId, this.transport, json.code, message, { commandId });
      return { kind: 'invalid_payload', message };
    }
    return toReplyPublishOutcome(await this.services.port.commandResult(deviceId, commandId, json.value));
  }

  /**
   * A will is honoured only as a state report of the device itself (e.g. {"online": false}). Any other will is
   * refused at CONNECT, when the device can still be told, instead of being dropped when it would apply:
   * another topic with Not authorized, a payload that is not a JSON object with Payload format invalid.
   */
  private checkWill(deviceId: string, will: WillMessage): AuthenticateResult | undefined {
    const { port } = this.services;
    if (classifyDeviceTopic(will.topic, deviceId).kind !== 'state') {
      const message = `will on ${will.topic} refused: a will may only go to ${deviceTopics.state(deviceId)} (or ${deviceTopics.state(OWN_DEVICE_ALIAS)})`;
      port.recordRejected(deviceId, this.transport, 'not_authorized', message, { kind: 'will' });
      return { ok: false, reason: 'not_authorized', detail: message };
    }
    const state = port.checkState(will.payload);
    if (state.ok) return undefined;
    const message = `will refused: ${state.message}`;
    port.recordRejected(deviceId, this.transport, state.code, message, { kind: 'will' });
    return { ok: false, reason: 'payload_format_invalid', detail: message };
  }

  /** The will was checked at CONNECT (checkWill): a state report of this device. */
  onWill(_session: MqttSession, will: WillMessage): void {
    const connection = this.connection;
    if (!connection) return;
    void this.services.port.reportState(connection.deviceId, this.transport, will.payload).catch(() => undefined);
  }

  onClose(_session: MqttSession, reason: CloseReason, detail?: string): void {
    this.endHandshake();
    const connection = this.connection;
    if (!connection) return;
    this.services.port.closeSession(connection, connection.endedBy ?? (detail ? `${reason}: ${detail}` : reason));
  }
}

/**
 * MQTT 5 PUBACK reason codes for a refused result: 0x99 for a result that is not valid (or that the database
 * refused), 0x87 for another device's command, 0x80 otherwise. Unavailable: not acknowledged, the session closes
 * (0x89) and the device sends the result again on its next session.
 */
function toReplyPublishOutcome(outcome: ReplyOutcome): PublishOutcome {
  if (outcome.ok) return { kind: 'accepted' };
  if (outcome.code === 'unavailable') return { kind: 'unavailable' };
  if (outcome.code === 'invalid_result' || outcome.code === 'data_rejected') {
    return { kind: 'invalid_payload', message: outcome.message };
  }
  const reasonCode = outcome.code === 'not_your_command' ? ReasonCode.notAuthorized : ReasonCode.unspecifiedError;
  return { kind: 'refused', reasonCode, message: outcome.message };
}

/**
 * MQTT sessions wait out an unavailable database (their unacknowledged messages hold the device back), so
 * `unavailable` reaches them only at shutdown (0x8B); `overloaded` closes with 0x89 Server busy.
 */
function toPublishOutcome(outcome: IngestOutcome): PublishOutcome {
  if (outcome.ok) return { kind: 'accepted' };
  if (outcome.code === 'unavailable') return { kind: 'unavailable', shuttingDown: true };
  if (outcome.code === 'overloaded') return { kind: 'unavailable' };
  return { kind: 'invalid_payload', message: outcome.message };
}
