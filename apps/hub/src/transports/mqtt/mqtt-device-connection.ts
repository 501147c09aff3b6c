import type { MqttSession } from '@telehub/mqtt';
import type { CloseReason, DeviceConnection, DeviceTransport } from '../../sessions/device-connection.js';

/** An MQTT session as the registry sees it. */
export class MqttDeviceConnection implements DeviceConnection {
  readonly connectedAt = Date.now();

  constructor(
    readonly session: MqttSession,
    readonly deviceId: string,
    readonly transport: DeviceTransport,
  ) {}

  pause(): void {
    this.session.pause();
  }

  resume(): void {
    this.session.resume();
  }

  close(reason: CloseReason): void {
    this.session.close(
      reason === 'token_revoked' ? 'not_authorized' : reason === 'server_overloaded' ? 'server_busy' : reason,
    );
  }

  drain(): Promise<void> {
    return this.session.drain();
  }
}
