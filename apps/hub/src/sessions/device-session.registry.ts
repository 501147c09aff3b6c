import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DevicePresenceRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import type { CloseReason, DeviceConnection } from './device-connection.js';
import { PresenceWriter } from './presence-writer.js';
import { TokenBucket } from './token-bucket.js';

type PauseCause = 'pressure' | 'rate' | 'shutdown';

interface SessionState {
  connection: DeviceConnection;
  bucket: TokenBucket;
  pausedBy: Set<PauseCause>;
  /** One timer per message held back; reading resumes when the last fires. */
  rateTimers: Set<NodeJS.Timeout>;
  /** Closed for its rate: frames still arriving while it closes are not recorded again (one event per episode). */
  closedForRate: boolean;
}

/**
 * The live sessions of this hub process: one per device (a new one takes over), presence records,
 * last-seen coalescing, per-device rate limiting and global back-pressure, all transport-agnostic.
 */
@Injectable()
export class DeviceSessionRegistry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sessions = new Map<string, SessionState>();
  private readonly seen = new Set<string>();
  private readonly seenTimer: NodeJS.Timeout;
  private readonly presenceWriter: PresenceWriter;
  private underPressure = false;
  /** Connections whose token is being checked: they count against TELEHUB_MAX_CONNECTIONS too. */
  private handshakes = 0;

  constructor(
    private readonly presence: DevicePresenceRepository,
    private readonly recorder: DeviceEventRecorder,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.presenceWriter = new PresenceWriter({
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

  get size(): number {
    return this.sessions.size;
  }

  get(deviceId: string): DeviceConnection | undefined {
    return this.sessions.get(deviceId)?.connection;
  }

  /** The devices with a live session on this hub process. */
  deviceIds(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * A place for a new connection while its token is checked, or undefined when sessions and handshakes
   * already reach TELEHUB_MAX_CONNECTIONS. Call the returned release when the handshake is over, either way.
   */
  reserveHandshake(): (() => void) | undefined {
    if (this.sessions.size + this.handshakes >= this.config.devices.maxConnections) return undefined;
    this.handshakes += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.handshakes -= 1;
    };
  }

  /** The device was heard from (accepted telemetry, any transport). Written with the next coalesced update. */
  markSeen(deviceId: string): void {
    this.seen.add(deviceId);
  }

  /** Credentials changed (token revoked, device disabled or deleted): end its live session at once. */
  revoke(deviceId: string, reason: 'token_revoked' | 'not_authorized'): void {
    this.sessions.get(deviceId)?.connection.close(reason);
  }

  /** A device authenticated: close its previous session (takeover) and record it online. */
  async open(connection: DeviceConnection): Promise<void> {
    const previous = this.sessions.get(connection.deviceId);
    const { devices } = this.config;
    const state: SessionState = {
      connection,
      bucket: new TokenBucket(devices.ratePerSec, devices.rateBurst, devices.rateLimitDisconnectMs),
      pausedBy: new Set(),
      rateTimers: new Set(),
      closedForRate: false,
    };
    this.sessions.set(connection.deviceId, state);
    if (previous) {
      this.clearRateTimer(previous);
      previous.connection.close('taken_over');
    }
    if (this.underPressure) this.pause(state, 'pressure');
    const { deviceId, transport, connectedAt } = connection;
    this.metrics.connects.inc({ transport });
    this.metrics.connections.inc({ transport });
    this.recorder.record(deviceId, 'connected', { transport, node: this.config.nodeId }, connectedAt);
    this.hubEvents.emit({ type: 'presence', deviceId, online: true, transport, at: connectedAt });
    const node = this.config.nodeId;
    await this.presenceWriter.apply({ deviceId, online: true, node, transport, connectedAt, at: connectedAt });
  }

  /** A session ended. Only the current session of a device marks it offline (not one taken over). */
  closed(connection: DeviceConnection, reason: CloseReason | string): void {
    const { deviceId, transport, connectedAt } = connection;
    const state = this.sessions.get(deviceId);
    const now = Date.now();
    this.metrics.connections.dec({ transport });
    this.recorder.record(deviceId, 'disconnected', { transport, reason }, now);
    if (state?.connection !== connection) return;
    this.clearRateTimer(state);
    this.sessions.delete(deviceId);
    this.seen.delete(deviceId);
    this.hubEvents.emit({ type: 'presence', deviceId, online: false, transport, reason, at: now });
    const node = this.config.nodeId;
    void this.presenceWriter.apply({ deviceId, online: false, node, transport, connectedAt, reason, at: now });
  }

  /**
   * Called for every message a device sends, before it is handled. Resolves at once within the device's
   * budget; over it, the device's reading is paused until the budget allows this message.
   */
  admit(connection: DeviceConnection): Promise<void> | undefined {
    const state = this.sessions.get(connection.deviceId);
    if (state?.connection !== connection || state.closedForRate) return undefined;
    const waitMs = state.bucket.take();
    if (waitMs === 0) return undefined;
    if (state.bucket.persistentlyOverLimit()) {
      state.closedForRate = true;
      this.clearRateTimer(state);
      this.recorder.record(connection.deviceId, 'rate_limited', { ratePerSec: this.config.devices.ratePerSec });
      connection.close('rate_limited');
      return undefined;
    }
    this.pause(state, 'rate');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        state.rateTimers.delete(timer);
        if (state.rateTimers.size === 0) this.resume(state, 'rate');
        resolve();
      }, Math.ceil(waitMs));
      state.rateTimers.add(timer);
    });
  }

  /** Global back-pressure from the ingest writer: stop or restart reading every device socket. */
  setPressure(high: boolean): void {
    if (high === this.underPressure) return;
    this.underPressure = high;
    this.logger.warn(
      { sessions: this.sessions.size },
      high
        ? 'ingest backlog above high-water mark: pausing device reads'
        : 'ingest backlog drained: resuming device reads',
    );
    for (const state of this.sessions.values()) {
      if (high) this.pause(state, 'pressure');
      else this.resume(state, 'pressure');
    }
  }

  /**
   * Shutdown: close every session (after its pending messages were acknowledged), and wait until they have
   * closed. Each transport ends its side after its last acknowledgements and reads on until the device closes
   * too: a process exiting earlier would close sockets with unread bytes, and the resets that sends would drop
   * the acknowledgements just written.
   */
  async closeAll(reason: CloseReason, drainTimeoutMs: number): Promise<void> {
    const states = [...this.sessions.values()];
    // A pause cause of its own, so a rate-limit timer firing meanwhile cannot resume reading.
    for (const state of states) this.pause(state, 'shutdown');
    await Promise.race([
      Promise.allSettled(states.map((state) => state.connection.drain())),
      new Promise((resolve) => setTimeout(resolve, drainTimeoutMs).unref()),
    ]);
    for (const state of states) state.connection.close(reason);
    // Transports cut off a device that does not close within TELEHUB_CLOSE_GRACE_MS; this bounds one that fails to.
    await Promise.race([
      Promise.allSettled(states.map((state) => state.connection.ended)),
      new Promise((resolve) => setTimeout(resolve, 2 * this.config.devices.closeGraceMs).unref()),
    ]);
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
    for (const state of this.sessions.values()) this.clearRateTimer(state);
    await this.presenceWriter.flush();
    await this.flushLastSeen();
  }

  private pause(state: SessionState, cause: PauseCause): void {
    if (state.pausedBy.size === 0) state.connection.pause();
    state.pausedBy.add(cause);
  }

  private resume(state: SessionState, cause: PauseCause): void {
    if (!state.pausedBy.delete(cause)) return;
    if (state.pausedBy.size === 0) state.connection.resume();
  }

  /** A closed session's held-back messages are dropped with it (unacknowledged, so the device resends). */
  private clearRateTimer(state: SessionState): void {
    for (const timer of state.rateTimers) clearTimeout(timer);
    state.rateTimers.clear();
  }
}
