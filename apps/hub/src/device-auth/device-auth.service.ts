import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type DeviceCredential, DeviceTokenRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { hashesEqual, hashToken, looksLikeToken } from '../auth/token-codec.js';
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
  | { ok: true; deviceId: string; tokenId: string }
  | { ok: false; reason: DeviceAuthFailure; deviceId?: string };

/** Who is trying to authenticate, for the record of a refusal. */
export interface AuthAttempt {
  transport: string;
  remoteAddress?: string;
  clientId?: string;
}

interface CacheEntry {
  credential: DeviceCredential | undefined;
  expiresAtMs: number;
}

// Unknown tokens are cached briefly so a device retrying a bad token in a loop does not hit the database.
const NEGATIVE_TTL_MS = 5_000;
const LAST_USED_FLUSH_MS = 30_000;

/**
 * The one path from a device token to a device, for every transport. Lookups are cached (revocation,
 * rotation, disabling and deletion invalidate the device's entries) and misses arriving together are
 * answered by one batched query.
 */
@Injectable()
export class DeviceAuthService implements OnModuleDestroy {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loader: BatchedLoader<string, DeviceCredential>;
  private readonly usedTokenIds = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly tokens: DeviceTokenRepository,
    private readonly recorder: DeviceEventRecorder,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loader = new BatchedLoader(async (hexHashes) => {
      const rows = await this.tokens.findCredentialsByHashes(hexHashes.map((hex) => Buffer.from(hex, 'hex')));
      return new Map(rows.map((row) => [row.tokenHash.toString('hex'), row]));
    });
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref();
  }

  /** Checks a device token; a refusal is counted and recorded in the device's events (or unattributed ones). */
  async authenticate(token: string | undefined, attempt: AuthAttempt): Promise<DeviceAuthResult> {
    const result = await this.check(token);
    if (!result.ok) this.recordFailure(attempt, result.reason, result.deviceId);
    return result;
  }

  /** Counts a refused device authentication by reason and keeps it in the device's events. */
  recordFailure(attempt: AuthAttempt, reason: string, deviceId: string | undefined): void {
    this.metrics.authFailures.inc({ transport: attempt.transport, reason });
    this.recorder.record(deviceId ?? null, 'auth_failed', { ...attempt, reason });
  }

  private async check(token: string | undefined, now = Date.now()): Promise<DeviceAuthResult> {
    if (!token) return { ok: false, reason: 'missing_token' };
    if (!looksLikeToken(token, 'device')) return { ok: false, reason: 'malformed_token' };
    const hash = hashToken(token);
    const key = hash.toString('hex');
    let entry = this.cache.get(key);
    if (!entry || entry.expiresAtMs <= now) {
      const credential = await this.loader.load(key);
      entry = { credential, expiresAtMs: now + (credential ? this.config.auth.cacheTtlMs : NEGATIVE_TTL_MS) };
      this.cache.set(key, entry);
    }
    const credential = entry.credential;
    if (!credential || !hashesEqual(credential.tokenHash, hash)) return { ok: false, reason: 'unknown_token' };
    const deviceId = credential.deviceId;
    if (credential.revokedAt && credential.revokedAt.getTime() <= now)
      return { ok: false, reason: 'token_revoked', deviceId };
    if (credential.expiresAt && credential.expiresAt.getTime() <= now)
      return { ok: false, reason: 'token_expired', deviceId };
    if (credential.deviceDisabled) return { ok: false, reason: 'device_disabled', deviceId };
    this.usedTokenIds.add(credential.tokenId);
    return { ok: true, deviceId, tokenId: credential.tokenId };
  }

  /** Forget everything cached for a device: called on revoke, rotation, disable and delete. */
  invalidateDevice(deviceId: string): void {
    for (const [key, entry] of this.cache) {
      if (entry.credential?.deviceId === deviceId) this.cache.delete(key);
    }
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
