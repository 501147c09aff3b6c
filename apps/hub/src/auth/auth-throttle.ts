import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { KeyedTokenBuckets } from '../sessions/keyed-token-buckets.js';
import { sourceAddressKey } from './source-address.js';

/**
 * Failed authentications per source address, for every transport and both kinds of token (device and admin):
 * a token bucket of TELEHUB_AUTH_FAILURE_BURST failures, refilled at TELEHUB_AUTH_FAILURE_RATE_PER_SEC. Only a
 * presented credential that turns out not to be valid counts (a missing one costs no lookup). Once an address
 * has no failures left, its attempts are refused before any token lookup, with each transport's "try later":
 * MQTT 5 CONNACK 0x9F, 3.1.1 CONNACK 3, HTTP and WebSocket handshakes 429 with Retry-After.
 *
 * Callers: `const waitMs = throttle.check(address, transport)` before the lookup (refuse when > 0), and
 * `throttle.failed(address)` when the credential was not valid.
 */
@Injectable()
export class AuthThrottle {
  private readonly failures: KeyedTokenBuckets<string> | undefined;

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    private readonly metrics: HubMetrics,
  ) {
    const { failureBurst, failureRatePerSec, throttleMaxAddresses } = config.auth;
    this.failures =
      failureBurst === 0 ? undefined : new KeyedTokenBuckets(failureRatePerSec, failureBurst, throttleMaxAddresses);
  }

  /** Milliseconds until `address` may try to authenticate again (0: now). A refusal is counted in metrics. */
  check(address: string | undefined, transport: string): number {
    const key = sourceAddressKey(address);
    if (!this.failures || key === undefined) return 0;
    const waitMs = this.failures.waitMs(key);
    if (waitMs > 0) this.metrics.authThrottled.inc({ transport });
    return waitMs;
  }

  /** A credential from `address` was not valid. */
  failed(address: string | undefined): void {
    const key = sourceAddressKey(address);
    if (this.failures && key !== undefined) this.failures.take(key);
  }
}

/** Whole seconds for a Retry-After header (RFC 9110 §10.2.3), at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export const AUTH_THROTTLED_DETAIL =
  'too many failed authentications from this address (TELEHUB_AUTH_FAILURE_BURST, TELEHUB_AUTH_FAILURE_RATE_PER_SEC)';

/** The HTTP refusal of a throttled address: 429 with Retry-After (RFC 6585 §4). */
export function authThrottledError(waitMs: number): ApiError {
  const seconds = retryAfterSeconds(waitMs);
  return new ApiError(
    429,
    'auth_throttled',
    'Too many failed authentications',
    `${AUTH_THROTTLED_DETAIL}; try again in ${seconds} s`,
    undefined,
    { 'Retry-After': String(seconds) },
  );
}
