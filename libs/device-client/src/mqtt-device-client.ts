import { deviceTopics, parseCommandMessage } from '@telehub/contracts';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { DeviceClientError } from './device-client.error.js';
import type { CommandOutcome, DeviceCommand } from './device-client.js';
import type { DeviceClientOptions } from './device-client.options.js';
import { DeviceClientBase } from './device-client-base.js';
import { parseJson } from './parse-json.js';
import { settlesWithin } from './settles-within.js';

export interface MqttDeviceClientOptions extends DeviceClientOptions {
  /** 4: MQTT 3.1.1; 5: MQTT 5. */
  protocolVersion: 4 | 5;
}

/** Where a command's result goes: MQTT 5 commands carry a Response Topic and Correlation Data to echo. */
interface ResultRoute {
  responseTopic: string | undefined;
  correlationData: Buffer | undefined;
}

/** One MQTT connection: MQTT.js's client and the sends this class still owes an answer. */
interface Connection {
  client: MqttClient;
  pending: Set<(error: DeviceClientError) => void>;
  subscribed: boolean;
}

// CONNACK codes that mean the token is not accepted: 3.1.1 return codes 4 and 5 [MQTT-3.2.2.3]; MQTT 5 0x86
// Bad User Name or Password, 0x87 Not authorized, 0x8C Bad authentication method.
const CONNACK_UNAUTHORIZED = new Set([4, 5, 0x86, 0x87, 0x8c]);
// MQTT 5 DISCONNECT reason codes sent by the hub (docs/device-protocol.md).
const SESSION_TAKEN_OVER = 0x8e;
const NOT_AUTHORIZED = 0x87;

/**
 * A device over MQTT 3.1.1 or 5, on MQTT.js. Telemetry and state go out at QoS 1, so each send resolves on
 * the hub's PUBACK, which it sends only once the data is committed. Each (re)connection is a new MQTT.js client
 * with a clean session: reconnecting is the base class's job (jittered backoff), not MQTT.js's fixed period.
 */
export class MqttDeviceClient extends DeviceClientBase<ResultRoute> {
  readonly transport: 'mqtt' | 'mqtt5';
  private readonly protocolVersion: 4 | 5;
  private connection: Connection | undefined;

  constructor(options: MqttDeviceClientOptions) {
    super(options);
    if (/^https?:/.test(this.options.url)) {
      throw new DeviceClientError(
        'ERR_INVALID_OPTIONS',
        `an MQTT URL is mqtt://, mqtts:// or ws(s)://…/mqtt, got ${this.options.url}`,
      );
    }
    this.protocolVersion = options.protocolVersion;
    this.transport = options.protocolVersion === 5 ? 'mqtt5' : 'mqtt';
  }

  protected open(): Promise<void> {
    const { deviceId, token, url, connectTimeoutMs, keepaliveSeconds } = this.options;
    const client = mqtt.connect(url, {
      protocolVersion: this.protocolVersion,
      // MQTT.js sends a password only with a username; the hub takes the device id there.
      username: deviceId,
      password: token,
      clientId: deviceId,
      clean: true,
      keepalive: keepaliveSeconds,
      connectTimeout: connectTimeoutMs,
      reconnectPeriod: 0,
    });
    const connection: Connection = { client, pending: new Set(), subscribed: false };
    this.connection = connection;
    let opened = false;
    let lastError: Error | undefined;
    let disconnectReason: number | undefined;
    return new Promise<void>((resolve, reject) => {
      client.on('connect', () => {
        // MQTT.js leaves Nagle's algorithm on: a result published right after a PUBACK would wait ~40 ms for
        // the hub's delayed ACK (measured in bench/commands). Devices send small messages; send them at once.
        (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
        const ready = this.commands.hasHandler ? this.subscribe(connection) : Promise.resolve();
        ready.then(
          () => {
            opened = true;
            resolve();
          },
          (error: unknown) => {
            client.end(true);
            reject(error);
          },
        );
      });
      client.on('error', (error) => {
        lastError = error;
        if (opened) return;
        client.end(true);
        reject(connectError(error));
      });
      client.on('disconnect', (packet) => {
        disconnectReason = packet.reasonCode;
      });
      client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
      client.on('close', () => {
        this.failPending(connection, 'the connection closed before the hub acknowledged the message');
        // MQTT.js keeps unacknowledged publishes to resend them itself; this client is done, so let it go.
        client.end(true);
        if (!opened) {
          reject(connectError(lastError ?? new Error('the connection closed before the CONNACK')));
          return;
        }
        if (this.connection === connection) this.connectionLost(lostError(disconnectReason, lastError));
      });
    });
  }

  protected isOpen(): boolean {
    return this.connection?.client.connected === true;
  }

  protected async shutdown(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    const { client } = connection;
    if (!client.connected) {
      client.end(true);
      return;
    }
    // end() sends DISCONNECT once every publish in flight is acknowledged [MQTT-3.14.4]; past the timeout, cut.
    if (!(await settlesWithin(client.endAsync(false), this.options.closeTimeoutMs))) {
      client.stream.destroy();
      this.failPending(connection, 'close() cut the connection before the hub acknowledged the message');
    }
  }

  protected publish(kind: 'telemetry' | 'state', data: unknown): Promise<void> {
    const topic = kind === 'telemetry' ? deviceTopics.telemetry(this.deviceId) : deviceTopics.state(this.deviceId);
    return this.publishQos1(topic, JSON.stringify(data));
  }

  protected async subscribeCommands(): Promise<void> {
    if (this.connection) await this.subscribe(this.connection);
  }

  /** The PUBACK MQTT.js sent on receipt is the acknowledgement: the hub marks the command delivered. */
  protected acknowledgeCommand(): Promise<void> {
    return Promise.resolve();
  }

  protected sendCommandResult(command: DeviceCommand, outcome: CommandOutcome, route: ResultRoute): Promise<void> {
    // MQTT 5 request/response: answer on the Response Topic, echoing the Correlation Data [MQTT-4.10].
    const topic = route.responseTopic ?? deviceTopics.commandResult(this.deviceId, command.id);
    const properties =
      this.protocolVersion === 5 && route.correlationData ? { correlationData: route.correlationData } : undefined;
    return this.publishQos1(topic, JSON.stringify(outcome), properties);
  }

  private async subscribe(connection: Connection): Promise<void> {
    if (connection.subscribed) return;
    const topic = deviceTopics.commands(this.deviceId);
    try {
      await connection.client.subscribeAsync(topic, { qos: 1 });
      connection.subscribed = true;
    } catch (error) {
      const reasonCode = (error as { code?: unknown }).code;
      throw new DeviceClientError('ERR_SUBSCRIBE_REFUSED', `the hub refused the subscription to ${topic}`, {
        reasonCode: typeof reasonCode === 'number' ? reasonCode : undefined,
        cause: error,
      });
    }
  }

  private publishQos1(topic: string, payload: string, properties?: IPublishPacket['properties']): Promise<void> {
    const connection = this.connection;
    if (!connection?.client.connected) {
      return Promise.reject(new DeviceClientError('ERR_NOT_CONNECTED', `device ${this.deviceId} is not connected`));
    }
    return new Promise((resolve, reject) => {
      connection.pending.add(reject);
      connection.client.publish(topic, payload, { qos: 1, properties }, (error) => {
        connection.pending.delete(reject);
        if (error) reject(publishError(error, topic));
        else resolve();
      });
    });
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (topic !== deviceTopics.commands(this.deviceId)) return;
    const json = parseJson(payload.toString('utf8'));
    const parsed = json.ok ? parseCommandMessage(json.value) : json;
    if (!parsed.ok) {
      this.report(new DeviceClientError('ERR_PROTOCOL', `unreadable command on ${topic}: ${parsed.message}`));
      return;
    }
    const route: ResultRoute = {
      responseTopic: packet.properties?.responseTopic,
      correlationData: packet.properties?.correlationData,
    };
    void this.commands.receive(parsed.command, route);
  }

  private failPending(connection: Connection, message: string): void {
    const rejects = [...connection.pending];
    connection.pending.clear();
    for (const reject of rejects) reject(new DeviceClientError('ERR_CONNECTION_LOST', message));
  }
}

function reasonCodeOf(error: Error): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function connectError(error: Error): DeviceClientError {
  const reasonCode = reasonCodeOf(error);
  if (reasonCode !== undefined && CONNACK_UNAUTHORIZED.has(reasonCode)) {
    return new DeviceClientError('ERR_UNAUTHORIZED', `the hub refused the device token: ${error.message}`, {
      reasonCode,
      cause: error,
    });
  }
  return new DeviceClientError('ERR_CONNECT_FAILED', `MQTT connection failed: ${error.message}`, {
    reasonCode,
    cause: error,
  });
}

function publishError(error: Error, topic: string): DeviceClientError {
  const reasonCode = reasonCodeOf(error);
  if (reasonCode === undefined) {
    return new DeviceClientError('ERR_CONNECTION_LOST', `publish to ${topic} failed: ${error.message}`, {
      cause: error,
    });
  }
  // MQTT 5 only: 3.1.1 has no negative PUBACK.
  const hex = `0x${reasonCode.toString(16).padStart(2, '0')}`;
  return new DeviceClientError('ERR_REJECTED', `the hub refused the message on ${topic}: ${error.message} (${hex})`, {
    reasonCode,
    cause: error,
  });
}

function lostError(disconnectReason: number | undefined, lastError: Error | undefined): DeviceClientError {
  const detail = { reasonCode: disconnectReason, cause: lastError };
  if (disconnectReason === SESSION_TAKEN_OVER) {
    return new DeviceClientError('ERR_SESSION_TAKEN_OVER', 'another connection of this device took over', detail);
  }
  if (disconnectReason === NOT_AUTHORIZED) {
    return new DeviceClientError('ERR_UNAUTHORIZED', 'the hub no longer accepts this token (0x87)', detail);
  }
  const why =
    disconnectReason !== undefined
      ? `the hub sent DISCONNECT 0x${disconnectReason.toString(16).padStart(2, '0')}`
      : lastError
        ? lastError.message
        : 'the connection closed';
  return new DeviceClientError('ERR_CONNECTION_LOST', `MQTT connection lost: ${why}`, detail);
}
