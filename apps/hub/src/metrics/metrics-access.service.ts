import { Inject, Injectable } from '@nestjs/common';
import { AdminTokenService } from '../admin-auth/admin-token.service.js';
import { bearerToken } from '../admin-auth/bearer-token.js';
import { AuthThrottle, authThrottledError } from '../auth/auth-throttle.js';
import { hashesEqual, hashToken } from '../auth/token-codec.js';
import { ApiError } from '../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';

/**
 * Who may scrape /metrics (TELEHUB_METRICS_AUTH). With `token`, a bearer token is required: the metrics
 * token (TELEHUB_METRICS_TOKEN, for Prometheus, which then holds no admin secret) or any valid admin token.
 * The metrics show device counts, traffic and failure rates: enough to map a fleet, so not public by default.
 * A wrong token counts against its address like any failed authentication (AuthThrottle): an address over its
 * budget gets 429 before any token is checked.
 */
@Injectable()
export class MetricsAccess {
  private readonly metricsTokenHash: Buffer | undefined;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly adminTokens: AdminTokenService,
    private readonly throttle: AuthThrottle,
  ) {
    // Compared as SHA-256 digests in constant time, like every other token: no timing hint at the secret.
    this.metricsTokenHash = config.metrics.token ? hashToken(config.metrics.token) : undefined;
  }

  /** Undefined when the request may scrape; otherwise the 401 (or 429) to answer with. */
  async refusal(
    authorization: string | string[] | undefined,
    address: string | undefined,
  ): Promise<ApiError | undefined> {
    if (this.config.metrics.auth === 'none') return undefined;
    const token = bearerToken(authorization);
    if (!token) {
      return ApiError.unauthorized(
        'send the metrics token (TELEHUB_METRICS_TOKEN) or an admin token as "Authorization: Bearer <token>"',
      );
    }
    const waitMs = this.throttle.check(address, 'metrics');
    if (waitMs > 0) return authThrottledError(waitMs);
    if (this.metricsTokenHash && hashesEqual(hashToken(token), this.metricsTokenHash)) return undefined;
    if ((await this.adminTokens.verify(token)).ok) return undefined;
    this.throttle.failed(address);
    return ApiError.unauthorized('the token is neither the metrics token nor a valid admin token');
  }
}
