import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type DeviceCredential, DeviceTokenRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { AuthThrottle } from '../auth/auth-throttle.js';
import { hashesEqual, hashToken, looksLikeToken } from '../auth/token-codec.js';
import { ExpiringCache } from '../common/expiring-cache.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { BatchedLoader } from './batched-loader.js';

export type DeviceAuthFailure =
  | 'missing_token'
  | 'malformed_token'
  | 'unknown_token'
  | 'token_revoked'
  | 'token_expired'
  | 'device_disabled';

export type DeviceAuthResult =
  /** `tokenExpiresAt`: when the token stops working (epoch ms; null: never); a live session ends then. */
  | { ok: true; deviceId: string; tokenId: string; tokenExpiresAt: number | null }
  | { ok: false; reason: DeviceAuthFailure; deviceId?: string }
  /** The source address is over its failure budget (AuthThrottle): refused without looking the token up. */
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Who is trying to authenticate, for the record of a refusal. */
export interface AuthAttempt {
  transport: string;
  remoteAddress?: string;
  clientId?: string;
}

interface CacheEntry {
  credential: DeviceCredential;
  expiresAtMs: number;
}

const LAST_USED_FLUSH_MS = 30_000;
/** Lookups of one token in a row, when invalidations keep arriving while each runs. */
const MAX_LOOKUPS = 3;

/**
 * The one path from a device token to a device, for every transport. Lookups are cached (revocation,
 * rotation, disabling and deletion invalidate the device's entries) and misses arriving together are
 * answered by one batched query. Known tokens are cached by hash (as many as there are tokens); unknown ones
 * only briefly and up to TELEHUB_AUTH_NEGATIVE_CACHE_SIZE, since anyone can make up new ones.
 */
@Injectable()
export class DeviceAuthService implements OnModuleDestroy {
  private readonly cache = new Map<string, CacheEntry>();
  /** Hashes of well-formed tokens the database does not know, so a device retrying one does not reach it. */
  private readonly unknown: ExpiringCache<string, true>;
  private readonly loader: BatchedLoader<string, DeviceCredential>;
  private readonly usedTokenIds = new Set<string>();
  /** Counts invalidations: a lookup under way when one happened may have read the credential before the change. */
  private invalidations = 0;
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly tokens: DeviceTokenRepository,
    private readonly recorder: DeviceEventRecorder,
    private readonly metrics: HubMetrics,
    private readonly throttle: AuthThrottle,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.unknown = new ExpiringCache(config.auth.negativeCacheSize, config.auth.negativeCacheTtlMs);
    this.loader = new BatchedLoader(async (hexHashes) => {
      const rows = await this.tokens.findCredentialsByHashes(hexHashes.map((hex) => Buffer.from(hex, 'hex')));
      return new Map(rows.map((row) => [row.tokenHash.toString('hex'), row]));
    });
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref();
  }

  /**
   * Checks a device token; a refusal is counted and recorded in the device's events (or unattributed ones), and
   * counts against the source address's failure budget. An address over it is refused without a lookup.
   */
  async authenticate(token: string | undefined, attempt: AuthAttempt): Promise<DeviceAuthResult> {
    if (token) {
      const retryAfterMs = this.throttle.check(attempt.remoteAddress, attempt.transport);
      if (retryAfterMs > 0) return { ok: false, reason: 'throttled', retryAfterMs };
    }
    const result = await this.check(token);
    if (!result.ok) {
      this.recordFailure(attempt, result.reason, result.deviceId);
      if (token) this.throttle.failed(attempt.remoteAddress);
    }
    return result;
  }

  /** Unknown tokens remembered right now (at most TELEHUB_AUTH_NEGATIVE_CACHE_SIZE). */
  get cachedUnknownTokens(): number {
    return this.unknown.size;
  }

  /** Counts a refused device authentication by reason and keeps it in the device's events. */
  recordFailure(attempt: AuthAttempt, reason: string, deviceId: string | undefined): void {
    this.metrics.authFailures.inc({ transport: attempt.transport, reason });
    this.recorder.record(deviceId ?? null, 'auth_failed', { ...attempt, reason });
  }

  private async check(
    token: string | undefined,
    now = Date.now(),
  ): Promise<Extract<DeviceAuthResult, { ok: true } | { reason: DeviceAuthFailure }>> {
    if (!token) return { ok: false, reason: 'missing_token' };
    if (!looksLikeToken(token, 'device')) return { ok: false, reason: 'malformed_token' };
    const hash = hashToken(token);
    const key = hash.toString('hex');
    if (this.unknown.get(key, now)) return { ok: false, reason: 'unknown_token' };
    let entry = this.cache.get(key);
    if (!entry || entry.expiresAtMs <= now) {
      let credential: DeviceCredential | undefined;
      for (let lookups = 1; ; lookups += 1) {
        const before = this.invalidations;
        credential = await this.loader.load(key);
        if (this.invalidations === before || lookups === MAX_LOOKUPS) break;
      }
      if (!credential) {
        this.cache.delete(key);
        this.unknown.set(key, true, now);
        return { ok: false, reason: 'unknown_token' };
      }
      entry = { credential, expiresAtMs: now + this.config.auth.cacheTtlMs };
      this.cache.set(key, entry);
    }
    const credential = entry.credential;
    if (!hashesEqual(credential.tokenHash, hash)) return { ok: false, reason: 'unknown_token' };
    const deviceId = credential.deviceId;
    // Judged at the time of the answer, not of the request: a token revoked or expired while its lookup ran
    // (the lookup is repeated then) is refused.
    const decidedAt = Math.max(now, Date.now());
    if (credential.revokedAt && credential.revokedAt.getTime() <= decidedAt)
      return { ok: false, reason: 'token_revoked', deviceId };
    if (credential.expiresAt && credential.expiresAt.getTime() <= decidedAt)
      return { ok: false, reason: 'token_expired', deviceId };
    if (credential.deviceDisabled) return { ok: false, reason: 'device_disabled', deviceId };
    this.usedTokenIds.add(credential.tokenId);
    return {
      ok: true,
      deviceId,
      tokenId: credential.tokenId,
      tokenExpiresAt: credential.expiresAt ? credential.expiresAt.getTime() : null,
    };
  }

  /** Forget everything cached for a device: called on revoke, rotation, disable and delete. */
  invalidateDevice(deviceId: string): void {
    this.invalidations += 1;
    for (const [key, entry] of this.cache) {
      if (entry.credential.deviceId === deviceId) this.cache.delete(key);
    }
  }

  /** Forget every cached credential (notices of changes may have been missed). */
  invalidateAll(): void {
    this.invalidations += 1;
    this.cache.clear();
  }

  async flushLastUsed(): Promise<void> {
    if (this.usedTokenIds.size === 0) return;
    const ids = [...this.usedTokenIds];
    this.usedTokenIds.clear();
    await this.tokens.touchLastUsed(ids).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not record token last-used times');
    });
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }
}
