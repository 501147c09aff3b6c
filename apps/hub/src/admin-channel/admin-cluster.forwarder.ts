import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CLUSTER_PAYLOAD_MAX_BYTES, type TelemetryBatch } from '@telehub/db';
import { ClusterBus } from '../cluster/cluster-bus.js';
import type { CrossingEvent } from '../cluster/cluster-message.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HubEvents } from '../events/hub-events.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { CrossingPoints } from './crossing-points.js';
import { RemoteAdminInterest } from './remote-admin-interest.js';

/** Room in a notice for the envelope around one message. */
const ENVELOPE_BYTES = 100;

/**
 * Sends the other hub processes what their admin connections watch of the devices on this one: live points of
 * committed batches, gathered per tick of the admin rate (1 / TELEHUB_ADMIN_WS_MAX_RATE) and at most
 * TELEHUB_ADMIN_CLUSTER_MAX_POINTS per tick, and presence, state and device events as they happen. Only after
 * commit (the events come from the hub's event stream), from the cluster bus's own connection; nothing is sent
 * for devices no other process watches.
 */
@Injectable()
export class AdminClusterForwarder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly points = new CrossingPoints();
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly interest: RemoteAdminInterest,
    private readonly bus: ClusterBus,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {
    this.tickMs = 1000 / config.adminChannel.maxRate;
  }

  onApplicationBootstrap(): void {
    const events = this.hubEvents;
    this.unsubscribe.push(
      events.on('telemetry', (event) => this.onTelemetry(event.batch, event.xid)),
      events.on('presence', ({ type: _type, ...event }) => this.forward({ type: 'presence', ...event })),
      events.on('state', ({ type: _type, ...event }) => this.forward({ type: 'state', ...event })),
      events.on('device_event', ({ type: _type, everyProcess, deviceId, ...event }) => {
        // Events of no known device reach no subscription; those every process emits need not cross.
        if (deviceId !== null && !everyProcess) this.forward({ type: 'device_event', deviceId, ...event });
      }),
    );
  }

  /** What is gathered goes out now (the bus sends it before it stops listening). */
  onModuleDestroy(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
    clearTimeout(this.timer);
    this.tick(true);
  }

  private onTelemetry(batch: TelemetryBatch, xid: string | undefined): void {
    if (!this.interest.anyPoints) return;
    const { times, deviceIds, metrics, values } = batch;
    let added = false;
    for (let index = 0; index < times.length; index += 1) {
      const deviceId = deviceIds[index] as string;
      if (!this.interest.wantsPoints(deviceId)) continue;
      this.points.add(deviceId, metrics[index] as string, times[index] as number, values[index] as number, xid);
      added = true;
    }
    if (added) this.schedule();
  }

  /** Sends at once when the last tick is an interval ago, else at the end of the interval. */
  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastTickAt + this.tickMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, wait);
    this.timer.unref();
  }

  private tick(final = false): void {
    if (this.points.size === 0) return;
    if (!final && this.bus.backlog > 0) {
      // The bus has not sent the last messages yet (the database is slow or away): the points wait for a later
      // tick rather than crowd out messages other processes must act on; too many wait as the newest per series.
      if (this.points.size > this.config.adminChannel.clusterMaxPoints) {
        this.metrics.adminClusterPoints.inc({ outcome: 'thinned' }, this.points.thin());
      }
      this.lastTickAt = Date.now();
      this.schedule();
      return;
    }
    this.lastTickAt = Date.now();
    const { messages, sent, thinned, discarded } = this.points.take(
      this.config.adminChannel.clusterMaxPoints,
      CLUSTER_PAYLOAD_MAX_BYTES - ENVELOPE_BYTES,
    );
    for (const message of messages) void this.bus.publish(message);
    this.metrics.adminClusterPoints.inc({ outcome: 'sent' }, sent);
    if (thinned > 0) this.metrics.adminClusterPoints.inc({ outcome: 'thinned' }, thinned);
    if (discarded > 0) this.metrics.adminClusterPoints.inc({ outcome: 'discarded' }, discarded);
  }

  /**
   * An event of a device another process watches. A state too large for a notice crosses without it: the
   * receiver reads the device's state from the table (by reference).
   */
  private forward(event: CrossingEvent): void {
    if (!this.interest.wantsEvents(event.deviceId)) return;
    let message = { kind: 'admin_event', event } as const;
    if (
      event.type === 'state' &&
      Buffer.byteLength(JSON.stringify(message)) > CLUSTER_PAYLOAD_MAX_BYTES - ENVELOPE_BYTES
    ) {
      const { state: _state, ...reference } = event;
      message = { kind: 'admin_event', event: reference };
    }
    void this.bus.publish(message);
  }
}
