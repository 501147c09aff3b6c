import { Inject, Injectable } from '@nestjs/common';
import { DeviceRateRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../../config/hub-config.js';
import { LOGGER } from '../../logging/logger.token.js';
import { TokenBucket } from '../../sessions/token-bucket.js';

/** How often buckets that refilled completely are forgotten. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * The per-device message rate for HTTP devices (TELEHUB_DEVICE_RATE_PER_SEC, TELEHUB_DEVICE_RATE_BURST), for the
 * whole hub: a load balancer may send a device's requests to every hub process, so the budget is kept in the
 * database (DeviceRateRepository), one statement per request, and no process lets a device through that the
 * others' requests have used up. A socket can be paused until the budget allows the next message; an HTTP request
 * cannot wait without holding the client's connection, so it is refused with `429 Too Many Requests` and how long
 * to wait (RFC 6585 §4).
 *
 * This process's own bucket is asked first, with the same settings: it never holds fewer tokens than the shared
 * one (it only counts requests the shared one admitted), so a device flooding one process is refused there
 * without a statement. Only authenticated devices have a bucket, and a local bucket that refilled completely is
 * forgotten, so the map holds the devices posting right now. With TELEHUB_HTTP_RATE_SHARED=false only this
 * process's bucket counts (a single hub process, where the statement buys nothing).
 */
@Injectable()
export class HttpRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep = performance.now();
  /** Whether the last shared check failed: logged once per outage. */
  private sharedFailing = false;

  constructor(
    private readonly shared: DeviceRateRepository,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** 0 when the device may send now (the message is counted), else milliseconds until it may. */
  async admit(deviceId: string): Promise<number> {
    const bucket = this.localBucket(deviceId, performance.now());
    const waitMs = bucket.tryTake();
    if (waitMs > 0 || !this.config.devices.httpRateShared) return waitMs;
    const { ratePerSec, rateBurst } = this.config.devices;
    try {
      const decision = await this.shared.take(deviceId, ratePerSec, rateBurst);
      this.sharedFailing = false;
      if (decision.admitted) return 0;
      bucket.giveBack();
      return decision.waitMs;
    } catch (error) {
      // The database is unreachable: this process's budget still holds, and ingest answers 503 anyway.
      if (!this.sharedFailing) this.logger.warn({ err: error }, 'could not check the shared device rate budget');
      this.sharedFailing = true;
      return 0;
    }
  }

  get size(): number {
    return this.buckets.size;
  }

  private localBucket(deviceId: string, now: number): TokenBucket {
    this.sweep(now);
    let bucket = this.buckets.get(deviceId);
    if (!bucket) {
      const { ratePerSec, rateBurst, rateLimitDisconnectMs } = this.config.devices;
      bucket = new TokenBucket(ratePerSec, rateBurst, rateLimitDisconnectMs, now);
      this.buckets.set(deviceId, bucket);
    }
    return bucket;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [deviceId, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(deviceId);
  }
}
