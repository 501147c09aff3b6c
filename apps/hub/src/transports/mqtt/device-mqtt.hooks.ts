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
import type { DeviceAuthService } from '../../device-auth/device-auth.service.js';
import type { IngestOutcome, IngestService } from '../../ingest/ingest.service.js';
import type { DeviceTransport } from '../../sessions/device-connection.js';
import type { DeviceSessionRegistry } from '../../sessions/device-session.registry.js';
import { classifyDeviceTopic } from './device-topics.js';
import { MqttDeviceConnection } from './mqtt-device-connection.js';

export interface DeviceMqttServices {
  deviceAuth: DeviceAuthService;
  registry: DeviceSessionRegistry;
  ingest: IngestService;
}

/**
 * The hub's side of one MQTT session: token authentication, topic access control, and handing
 * telemetry and state to ingest. Protocol mechanics live in @telehub/mqtt.
 */
export class DeviceMqttHooks implements MqttSessionHooks {
  private connection: MqttDeviceConnection | undefined;

  constructor(
    private readonly services: DeviceMqttServices,
    private readonly transport: DeviceTransport,
    private readonly remoteAddress: string | undefined,
    /** Called once the CONNECT was answered or the connection ended, whichever comes first. */
    private readonly handshakeOver: () => void,
  ) {}

  async authenticate(request: AuthenticateRequest, session: MqttSession): Promise<AuthenticateResult> {
    try {
      return await this.authenticateDevice(request, session);
    } finally {
      this.handshakeOver();
    }
  }

  private async authenticateDevice(request: AuthenticateRequest, session: MqttSession): Promise<AuthenticateResult> {
    const { deviceAuth, registry } = this.services;
    // The token is the password. Clients that can only set a username (some gateways) may put it there.
    const password = request.password?.toString('utf8');
    const tokenInUsername = !password && request.username?.startsWith('thd_');
    const token = tokenInUsername ? request.username : password;
    const attempt = { transport: this.transport, remoteAddress: this.remoteAddress, clientId: request.clientId };
    const result = await deviceAuth.authenticate(token, attempt);
    if (!result.ok) return { ok: false, reason: 'bad_credentials' };
    // Otherwise the username is optional; when given it must name the token's own device (or be `me`).
    const username = tokenInUsername ? undefined : request.username;
    if (username && username !== result.deviceId && username !== 'me') {
      deviceAuth.recordFailure(attempt, 'username_mismatch', result.deviceId);
      return { ok: false, reason: 'bad_credentials' };
    }
    this.connection = new MqttDeviceConnection(session, result.deviceId, this.transport);
    await registry.open(this.connection);
    return { ok: true, deviceId: result.deviceId };
  }

  async onPublish(_session: MqttSession, message: InboundMessage): Promise<PublishOutcome> {
    const connection = this.connection!;
    const topic = classifyDeviceTopic(message.topic, connection.deviceId);
    const { ingest, registry } = this.services;
    if (topic.kind !== 'telemetry' && topic.kind !== 'state') {
      ingest.recordRejected(
        connection.deviceId,
        this.transport,
        'not_authorized',
        `may not publish to ${message.topic}`,
      );
      return { kind: 'not_authorized' };
    }
    await registry.admit(connection);
    const outcome =
      topic.kind === 'telemetry'
        ? await ingest.ingestTelemetry(connection.deviceId, this.transport, message.payload)
        : await ingest.reportState(connection.deviceId, this.transport, message.payload);
    return toPublishOutcome(outcome);
  }

  authorizeSubscribe(_session: MqttSession, filter: string, qos: Qos): SubscribeDecision {
    const connection = this.connection!;
    if (classifyDeviceTopic(filter, connection.deviceId).kind === 'commands') {
      return { granted: true, qos: qos === 0 ? 0 : 1 };
    }
    this.services.ingest.recordRejected(
      connection.deviceId,
      this.transport,
      'not_authorized',
      `may not subscribe to ${filter}`,
    );
    return { granted: false };
  }

  /** A will is honoured only on the device's own state topic, e.g. {"online": false}. */
  onWill(_session: MqttSession, will: WillMessage): void {
    const connection = this.connection;
    if (!connection) return;
    if (classifyDeviceTopic(will.topic, connection.deviceId).kind !== 'state') {
      this.services.ingest.recordRejected(
        connection.deviceId,
        this.transport,
        'not_authorized',
        `will on ${will.topic} ignored`,
      );
      return;
    }
    void this.services.ingest.reportState(connection.deviceId, this.transport, will.payload).catch(() => undefined);
  }

  onClose(_session: MqttSession, reason: CloseReason, detail?: string): void {
    this.handshakeOver();
    const connection = this.connection;
    if (!connection) return;
    this.services.registry.closed(connection, detail ? `${reason}: ${detail}` : reason);
  }
}

function toPublishOutcome(outcome: IngestOutcome): PublishOutcome {
  if (outcome.ok) return { kind: 'accepted' };
  if (outcome.code === 'unavailable') return { kind: 'unavailable', shuttingDown: true };
  return { kind: 'invalid_payload', message: outcome.message };
}
