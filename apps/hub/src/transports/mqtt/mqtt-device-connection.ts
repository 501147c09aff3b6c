import { type CommandMessage, classifyDeviceTopic, deviceTopics, type SessionDetails } from '@telehub/contracts';
import { type MqttSession, MqttSessionError, type OutboundDelivery } from '@telehub/mqtt';
import { type CommandPublishTag, commandIdOf } from '../../mqtt-sessions/command-publish-tag.js';
import type { CloseReason, DeviceConnection, DeviceTransport } from '../../sessions/device-connection.js';

/** An MQTT session as the device sessions (table, flow control, presence) and command delivery see it. */
export class MqttDeviceConnection implements DeviceConnection {
  readonly connectedAt = Date.now();
  /**
   * The hub's reason when it ended the session itself (before anything else did): what the end is recorded with,
   * as for the other transports, where the MQTT reason alone would not tell a revoked token from an expired one.
   */
  endedBy: CloseReason | undefined;

  constructor(
    readonly session: MqttSession,
    readonly deviceId: string,
    readonly transport: DeviceTransport,
    readonly details: SessionDetails,
  ) {}

  pause(): void {
    this.session.pause();
  }

  resume(): void {
    this.session.resume();
  }

  /** A revoked or expired token ends the session with MQTT 5 DISCONNECT 0x87 Not authorized. */
  close(reason: CloseReason): void {
    if (this.session.closeReason === undefined) this.endedBy = reason;
    this.session.close(
      reason === 'token_revoked' || reason === 'token_expired'
        ? 'not_authorized'
        : reason === 'server_overloaded'
          ? 'server_busy'
          : reason,
    );
  }

  drain(): Promise<void> {
    return this.session.drain();
  }

  get ended(): Promise<unknown> {
    return this.session.closed;
  }

  get acceptsCommands(): boolean {
    return this.commandsSubscription() !== undefined;
  }

  get commandCapacity(): number {
    const subscription = this.commandsSubscription();
    if (!subscription) return 0;
    return subscription.qos === 0 ? Number.POSITIVE_INFINITY : this.session.outboundCapacity;
  }

  /**
   * Publishes on the filter the device subscribed with (`devices/{id}/commands` or `devices/me/commands`) so the
   * topic matches its subscription, at the QoS it was granted (at most 1). MQTT 5 devices also get where to
   * answer (Response Topic) and the command id as Correlation Data (MQTT 5 section 4.10). In a resumed session a
   * command sent before is a re-delivery: DUP, and the packet id it had when the session kept it [MQTT-4.4.0-1].
   */
  sendCommand(command: CommandMessage, previouslySent = false): boolean {
    const subscription = this.commandsSubscription();
    if (!subscription) return false;
    try {
      const tag: CommandPublishTag = { commandId: command.id };
      this.session.publish(
        {
          topic: subscription.filter,
          payload: JSON.stringify(command),
          qos: subscription.qos,
          properties: {
            responseTopic: deviceTopics.commandResult(this.deviceId, command.id),
            correlationData: Buffer.from(command.id),
            contentType: 'application/json',
            payloadFormatIndicator: true,
          },
        },
        tag,
        this.redelivery(command.id, previouslySent),
      );
      return true;
    } catch (error) {
      if (error instanceof MqttSessionError) return false;
      throw error;
    }
  }

  private redelivery(commandId: string, previouslySent: boolean): OutboundDelivery | undefined {
    if (!this.session.sessionPresent) return undefined;
    for (const [packetId, tag] of this.session.restoredPublishes) {
      if (commandIdOf(tag) === commandId) return { packetId };
    }
    return previouslySent ? { dup: true } : undefined;
  }

  private commandsSubscription(): { filter: string; qos: 0 | 1 } | undefined {
    for (const [filter, qos] of this.session.subscriptions) {
      if (classifyDeviceTopic(filter, this.deviceId).kind === 'commands') return { filter, qos };
    }
    return undefined;
  }
}
