import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { LOGGER } from '../logging/logger.token.js';
import type { DeviceConnection } from './device-connection.js';
import { TokenBucket } from './token-bucket.js';

/** Why a session's reading is paused, as bits: a Set per session would cost every idle device ~150 bytes. */
const PauseCause = { pressure: 1, rate: 2, shutdown: 4 } as const;
type PauseCause = (typeof PauseCause)[keyof typeof PauseCause];

interface Flow {
  connection: DeviceConnection;
  bucket: TokenBucket;
  /** Reading stays paused while any cause holds it (PauseCause bits). */
  pausedBy: number;
  /** One timer per message held back; reading resumes when the last fires. Made when the first is. */
  rateTimers: Set<NodeJS.Timeout> | undefined;
  /** Closed for its rate: frames still arriving while it closes are not recorded again (one event per episode). */
  closedForRate: boolean;
}

/**
 * How fast the hub reads each device session: the per-device message rate (TELEHUB_DEVICE_RATE_PER_SEC, _BURST:
 * over it, reading pauses until the budget allows the message; persistently over it, the session is closed)
 * and the global back-pressure of ingest (every session paused while the backlog is above its high-water mark).
 * Pausing, not refusing: nothing is lost, and TCP slows the device down.
 */
@Injectable()
export class FlowControl implements OnModuleDestroy {
  private readonly flows = new Map<DeviceConnection, Flow>();
  private underPressure = false;

  constructor(
    private readonly recorder: DeviceEventRecorder,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Meters a new session from its first message on; paused at once while ingest is under pressure. */
  track(connection: DeviceConnection): void {
    const { ratePerSec, rateBurst, rateLimitDisconnectMs } = this.config.devices;
    const flow: Flow = {
      connection,
      bucket: new TokenBucket(ratePerSec, rateBurst, rateLimitDisconnectMs),
      pausedBy: 0,
      rateTimers: undefined,
      closedForRate: false,
    };
    this.flows.set(connection, flow);
    if (this.underPressure) this.pause(flow, PauseCause.pressure);
  }

  /** The session ended or was taken over: messages it held back are dropped (unacknowledged, so the device resends). */
  forget(connection: DeviceConnection): void {
    const flow = this.flows.get(connection);
    if (!flow) return;
    this.clearRateTimers(flow);
    this.flows.delete(connection);
  }

  /**
   * Called for every message a device sends, before it is handled. Undefined (go on at once) within the device's
   * budget; over it, the session's reading is paused and the promise resolves when the budget allows this message.
   */
  admit(connection: DeviceConnection): Promise<void> | undefined {
    const flow = this.flows.get(connection);
    if (!flow || flow.closedForRate) return undefined;
    const waitMs = flow.bucket.take();
    if (waitMs === 0) return undefined;
    if (flow.bucket.persistentlyOverLimit()) {
      flow.closedForRate = true;
      this.clearRateTimers(flow);
      this.recorder.record(connection.deviceId, 'rate_limited', { ratePerSec: this.config.devices.ratePerSec });
      connection.close('rate_limited');
      return undefined;
    }
    this.pause(flow, PauseCause.rate);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        flow.rateTimers?.delete(timer);
        if (!flow.rateTimers?.size) {
          flow.rateTimers = undefined;
          this.resume(flow, PauseCause.rate);
        }
        resolve();
      }, Math.ceil(waitMs));
      flow.rateTimers ??= new Set();
      flow.rateTimers.add(timer);
    });
  }

  /** Global back-pressure from ingest: stop or restart reading every device session. */
  setPressure(high: boolean): void {
    if (high === this.underPressure) return;
    this.underPressure = high;
    this.logger.warn(
      { sessions: this.flows.size },
      high
        ? 'ingest backlog above high-water mark: pausing device reads'
        : 'ingest backlog drained: resuming device reads',
    );
    for (const flow of this.flows.values()) {
      if (high) this.pause(flow, PauseCause.pressure);
      else this.resume(flow, PauseCause.pressure);
    }
  }

  /** Shutdown: stop reading the session for good. A cause of its own, so a rate-limit timer cannot resume it. */
  holdForShutdown(connection: DeviceConnection): void {
    const flow = this.flows.get(connection);
    if (flow) this.pause(flow, PauseCause.shutdown);
  }

  onModuleDestroy(): void {
    for (const flow of this.flows.values()) this.clearRateTimers(flow);
  }

  private pause(flow: Flow, cause: PauseCause): void {
    if (flow.pausedBy === 0) flow.connection.pause();
    flow.pausedBy |= cause;
  }

  private resume(flow: Flow, cause: PauseCause): void {
    if ((flow.pausedBy & cause) === 0) return;
    flow.pausedBy &= ~cause;
    if (flow.pausedBy === 0) flow.connection.resume();
  }

  private clearRateTimers(flow: Flow): void {
    for (const timer of flow.rateTimers ?? []) clearTimeout(timer);
    flow.rateTimers = undefined;
  }
}
