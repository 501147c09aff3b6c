import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ADMIN_CLOSE, type AdminServerMessage, isFinalCommandStatus } from '@telehub/contracts';
import { AdminTokenRepository, type TelemetryBatch } from '@telehub/db';
import type { Logger } from 'pino';
import { presentCommand } from '../commands/command.presenter.js';
import { CommandService } from '../commands/command.service.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { type HubEventOf, HubEvents } from '../events/hub-events.js';
import { FleetSummaryService } from '../fleet/fleet-summary.service.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { AdminInterestPublisher } from './admin-interest.publisher.js';
import type { AdminSession, AdminSocket } from './admin-session.js';
import type { LiveSubscription } from './live-subscription.js';

const FLEET_INTERVAL_MS = 1000;

/**
 * The admin channel's open sessions, and what the hub pushes to them: an index of subscriptions by device for
 * committed telemetry, presence, state, device events and command status (this process's own, and those other
 * hub processes send through AdminClusterReceiver); a fleet summary every second; the WebSocket heartbeat; and
 * the end of connections whose token is revoked anywhere.
 */
@Injectable()
export class AdminFanoutService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sessions = new Map<AdminSocket, AdminSession>();
  private readonly byDevice = new Map<string, Set<LiveSubscription>>();
  private readonly allDevices = new Set<LiveSubscription>();
  private readonly owners = new Map<LiveSubscription, AdminSession>();
  private readonly unsubscribeEvents: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private unlistenRevocations: (() => Promise<void>) | undefined;
  private listeningForRevocations = false;
  /** False once the hub shuts down: handshakes still under way are not completed. */
  accepting = true;

  constructor(
    private readonly adminTokenRecords: AdminTokenRepository,
    private readonly commands: CommandService,
    private readonly fleet: FleetSummaryService,
    private readonly hubEvents: HubEvents,
    private readonly interest: AdminInterestPublisher,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A token revoked anywhere (this hub's API, another hub, the CLI) is announced through PostgreSQL NOTIFY.
    this.unlistenRevocations = await this.adminTokenRecords.listen(
      (tokenId) => this.closeSessionsOf(new Set([tokenId])),
      () => void this.recheckTokens(),
    );
    const events = this.hubEvents;
    this.unsubscribeEvents.push(
      events.on('telemetry', (event) => this.deliverTelemetry(event.batch, event.xid)),
      events.on('presence', (event) => this.deliverEvent(event.deviceId, { ...event, type: 'presence' })),
      events.on('state', (event) => this.deliverEvent(event.deviceId, { ...event, type: 'state' })),
      events.on('device_event', ({ everyProcess: _everyProcess, ...event }) =>
        this.deliverEvent(event.deviceId, { ...event, type: 'device_event' }),
      ),
      events.on('command', (event) => void this.onCommandStatus(event)),
    );
    this.timers = [
      setInterval(() => void this.broadcastFleet(), FLEET_INTERVAL_MS).unref(),
      setInterval(() => {
        for (const session of this.sessions.values()) session.heartbeat();
      }, this.config.adminChannel.pingIntervalMs).unref(),
    ];
  }

  async onModuleDestroy(): Promise<void> {
    this.accepting = false;
    await this.unlistenRevocations?.().catch(() => undefined);
    for (const stop of this.unsubscribeEvents.splice(0)) stop();
    for (const timer of this.timers) clearInterval(timer);
    // Each leaves the table when its socket has closed (remove()).
    for (const session of this.sessions.values()) session.close(ADMIN_CLOSE.serverShutdown, 'server shutting down');
  }

  add(socket: AdminSocket, session: AdminSession): void {
    this.sessions.set(socket, session);
    this.metrics.adminConnections.inc();
  }

  /** The socket closed: its session leaves (and is returned, to be cleaned up). */
  remove(socket: AdminSocket): AdminSession | undefined {
    const session = this.sessions.get(socket);
    if (session && this.sessions.delete(socket)) this.metrics.adminConnections.dec();
    return session;
  }

  sessionOf(socket: AdminSocket): AdminSession | undefined {
    return this.sessions.get(socket);
  }

  /** Open connections that have not authenticated (at most TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED, plus those closing). */
  unauthenticatedCount(): number {
    let count = 0;
    for (const session of this.sessions.values()) if (!session.isAuthenticated) count += 1;
    return count;
  }

  /**
   * Indexes the subscription (its live points start buffering). Resolves once the other hub processes know
   * what this one watches now (AdminInterestPublisher explains why the snapshot waits for that).
   */
  register(subscription: LiveSubscription, session: AdminSession): Promise<void> {
    this.owners.set(subscription, session);
    const devices = subscription.deviceIds;
    if (devices === undefined) {
      this.allDevices.add(subscription);
    } else {
      for (const deviceId of devices) {
        let subscriptions = this.byDevice.get(deviceId);
        if (!subscriptions) {
          subscriptions = new Set();
          this.byDevice.set(deviceId, subscriptions);
        }
        subscriptions.add(subscription);
      }
    }
    return this.interest.update(this.owners.keys());
  }

  unregister(subscription: LiveSubscription): void {
    this.owners.delete(subscription);
    this.allDevices.delete(subscription);
    for (const deviceId of subscription.deviceIds ?? []) {
      const subscriptions = this.byDevice.get(deviceId);
      subscriptions?.delete(subscription);
      if (subscriptions?.size === 0) this.byDevice.delete(deviceId);
    }
    void this.interest.update(this.owners.keys());
  }

  /** Ends the connections signed in with these tokens: they were revoked. */
  private closeSessionsOf(tokenIds: Set<string>): void {
    for (const session of this.sessions.values()) {
      const tokenId = session.tokenId;
      if (tokenId !== undefined && tokenIds.has(tokenId)) session.close(ADMIN_CLOSE.authFailed, 'admin token revoked');
    }
  }

  /**
   * Revocations announced while the listening connection was down are lost: when it is back, the tokens of
   * every open connection are read again. (The first call is the listen itself: nothing to catch up on.)
   */
  private async recheckTokens(): Promise<void> {
    if (!this.listeningForRevocations) {
      this.listeningForRevocations = true;
      return;
    }
    const tokenIds = new Set<string>();
    for (const session of this.sessions.values()) if (session.tokenId !== undefined) tokenIds.add(session.tokenId);
    try {
      const active = await this.adminTokenRecords.activeIds([...tokenIds]);
      this.closeSessionsOf(new Set([...tokenIds].filter((id) => !active.has(id))));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not check the admin tokens of open admin connections');
    }
  }

  /**
   * One committed batch, of this process or sent by another: each row goes to the subscriptions of its device,
   * then each touched one is scheduled.
   */
  deliverTelemetry(batch: TelemetryBatch, xid: string | undefined): void {
    if (this.owners.size === 0) return;
    // Per subscription, once per batch: is this batch live for it, or already in its snapshot?
    const live = new Map<LiveSubscription, boolean>();
    const accepts = (subscription: LiveSubscription) => {
      let accepted = live.get(subscription);
      if (accepted === undefined) {
        accepted = subscription.acceptsBatch(xid);
        live.set(subscription, accepted);
      }
      return accepted;
    };
    const touched = new Set<LiveSubscription>();
    const { times, deviceIds, metrics, values } = batch;
    for (let index = 0; index < times.length; index += 1) {
      const deviceId = deviceIds[index] as string;
      const subscriptions = this.byDevice.get(deviceId);
      if (!subscriptions && this.allDevices.size === 0) continue;
      const metric = metrics[index] as string;
      const time = times[index] as number;
      const value = values[index] as number;
      for (const group of [subscriptions, this.allDevices]) {
        for (const subscription of group ?? []) {
          if (accepts(subscription) && subscription.add(deviceId, metric, time, value, xid)) touched.add(subscription);
        }
      }
    }
    for (const subscription of touched) this.owners.get(subscription)?.schedule(subscription);
  }

  /** Points of a series another process left out (it sent only the newest): reported as `lagged`. */
  deliverDropped(deviceId: string, metric: string, dropped: number, xid: string | undefined): void {
    for (const group of [this.byDevice.get(deviceId), this.allDevices]) {
      for (const subscription of group ?? []) {
        if (subscription.acceptsBatch(xid) && subscription.countDropped(metric, dropped)) {
          this.owners.get(subscription)?.schedule(subscription);
        }
      }
    }
  }

  /** Presence, state or a device event, of this process or sent by another. */
  deliverEvent(deviceId: string | null, message: AdminServerMessage): void {
    for (const session of this.sessions.values()) {
      if (session.wantsEventsFor(deviceId)) session.send(message);
    }
  }

  /** Final statuses carry the whole command (result, error, timeline), read once for every interested session. */
  private async onCommandStatus(event: HubEventOf<'command'>): Promise<void> {
    const interested = [...this.sessions.values()].filter(
      (session) => session.sentCommand(event.id) || session.wantsEventsFor(event.deviceId),
    );
    if (interested.length === 0) return;
    const { type: _type, ...notice } = event;
    const command = isFinalCommandStatus(event.status)
      ? await this.commands.get(event.deviceId, event.id).catch(() => undefined)
      : undefined;
    const message: AdminServerMessage = {
      type: 'command_status',
      ...notice,
      ...(command ? { command: presentCommand(command) } : {}),
    };
    for (const session of interested) session.send(message);
  }

  private async broadcastFleet(): Promise<void> {
    const authenticated = [...this.sessions.values()].filter((session) => session.isAuthenticated);
    if (authenticated.length === 0) return;
    try {
      const summary = await this.fleet.summary();
      const message: AdminServerMessage = { type: 'fleet', at: Date.now(), ...summary };
      for (const session of authenticated) session.send(message);
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read the fleet summary');
    }
  }
}
