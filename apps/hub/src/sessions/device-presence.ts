import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { cleanText, type SessionDetails } from '@telehub/contracts';
import { DevicePresenceRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import type { DeviceConnection } from './device-connection.js';
import { PresenceWriter } from './presence-writer.js';

/**
 * What the rest of the hub and the database learn about device sessions: the presence rows (online, on which
 * node, since when; written in batches), `connected`/`disconnected` device events, the connection metrics, the
 * live presence events, and last-seen times (coalesced, written every TELEHUB_LAST_SEEN_INTERVAL_MS).
 */
@Injectable()
export class DevicePresence implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly seen = new Set<string>();
  private readonly seenTimer: NodeJS.Timeout;
  private readonly writer: PresenceWriter;

  constructor(
    private readonly presence: DevicePresenceRepository,
    private readonly recorder: DeviceEventRecorder,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.writer = new PresenceWriter({
      write: (changes) => presence.applyPresence(changes),
      onError: (error, changes) => logger.warn({ err: error, changes }, 'could not record presence'),
    });
    this.seenTimer = setInterval(() => void this.flushLastSeen(), config.devices.lastSeenIntervalMs).unref();
  }

  /** Sessions this node held before a crash or kill are gone: do not leave their devices shown online. */
  async onApplicationBootstrap(): Promise<void> {
    const stale = await this.presence.markNodeOffline(this.config.nodeId, 'hub_restart');
    if (stale > 0)
      this.logger.info({ devices: stale }, 'devices left online by an earlier run of this node marked offline');
  }

  /** A session opened: the device is online here. Resolves once that is written (or failed and was logged). */
  online(connection: DeviceConnection): Promise<void> {
    const { deviceId, transport, connectedAt } = connection;
    const node = this.config.nodeId;
    const session = storableDetails(connection.details, this.config.payloads.eventStringMaxBytes);
    this.metrics.connects.inc({ transport });
    this.metrics.connections.inc({ transport });
    this.recorder.record(deviceId, 'connected', { transport, node }, connectedAt);
    this.hubEvents.emit({
      type: 'presence',
      deviceId,
      online: true,
      transport,
      at: connectedAt,
      session: { ...session, node },
    });
    return this.writer.apply({ deviceId, online: true, node, transport, connectedAt, session, at: connectedAt });
  }

  /** A session ended, whether or not it was the device's current one (one taken over ends too). */
  ended(connection: DeviceConnection, reason: string, at: number): void {
    const { deviceId, transport } = connection;
    this.metrics.connections.dec({ transport });
    this.recorder.record(deviceId, 'disconnected', { transport, reason }, at);
  }

  /** The device's current session ended: the device is offline. */
  offline(connection: DeviceConnection, reason: string, at: number): void {
    const { deviceId, transport, connectedAt } = connection;
    this.seen.delete(deviceId);
    this.hubEvents.emit({ type: 'presence', deviceId, online: false, transport, reason, at });
    const node = this.config.nodeId;
    void this.writer.apply({ deviceId, online: false, node, transport, connectedAt, reason, at });
  }

  /** The device was heard from (accepted telemetry, any transport). Written with the next coalesced update. */
  markSeen(deviceId: string): void {
    this.seen.add(deviceId);
  }

  async flushLastSeen(): Promise<void> {
    if (this.seen.size === 0) return;
    const ids = [...this.seen];
    this.seen.clear();
    await this.presence.touchLastSeen(ids, Date.now()).catch((error: unknown) => {
      this.logger.debug({ err: error }, 'could not record last-seen times');
    });
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.seenTimer);
    await this.writer.flush();
    await this.flushLastSeen();
  }
}

/**
 * The details as they may be stored and shown: the client id comes from the device (up to 64 KiB in MQTT, any
 * character mqtt-packet lets through), so it is cleaned of what PostgreSQL refuses and cut to
 * TELEHUB_EVENT_MAX_STRING_BYTES, as device event details are.
 */
function storableDetails(details: SessionDetails, maxStringBytes: number): SessionDetails {
  const { clientId, remoteAddress } = details;
  return {
    ...details,
    clientId: clientId === null ? null : cleanText(clientId, maxStringBytes),
    remoteAddress: remoteAddress === null ? null : cleanText(remoteAddress, maxStringBytes),
  };
}
