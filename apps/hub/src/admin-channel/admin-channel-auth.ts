import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { ProblemDetails } from '@telehub/contracts';
import type { Logger } from 'pino';
import type { AdminIdentity, AdminTokenCheck } from '../admin-auth/admin-identity.js';
import { AdminTokenService } from '../admin-auth/admin-token.service.js';
import { bearerToken } from '../admin-auth/bearer-token.js';
import { AUTH_THROTTLED_DETAIL, AuthThrottle, retryAfterSeconds } from '../auth/auth-throttle.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { originAllowed } from './admin-origin.js';
import type { ChannelTokenCheck } from './admin-session.js';

const TRANSPORT = 'admin-ws';

/** A handshake refused with an HTTP answer (RFC 6455 §4.2.2), its body RFC 9457 Problem Details. */
export interface HandshakeRefusal {
  status: number;
  problem: Pick<ProblemDetails, 'code' | 'detail'>;
  headers?: Record<string, string>;
}

/** A handshake let through: with the identity of a valid token in its Authorization header, if it had one. */
export type Admission = { refusal: HandshakeRefusal } | { refusal?: undefined; identity: AdminIdentity | undefined };

/**
 * Who may open the admin channel and sign in on it: the browser origin (admin-origin.ts), the address's failure
 * budget (AuthThrottle), the number of connections still to authenticate (TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED),
 * and the admin token, from the handshake's Authorization header or the first message.
 */
@Injectable()
export class AdminChannelAuth {
  constructor(
    private readonly adminTokens: AdminTokenService,
    private readonly throttle: AuthThrottle,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The checks before the handshake is answered; a token in an Authorization header authenticates at once. */
  async admit(request: IncomingMessage): Promise<Admission> {
    const address = request.socket.remoteAddress;
    const origin = request.headers.origin;
    if (!originAllowed(origin, request.headers.host, this.config.adminChannel.allowedOrigins)) {
      this.metrics.adminHandshakesRefused.inc({ reason: 'origin' });
      const detail = `a page of ${JSON.stringify(origin)} may not open the admin channel; add its origin to TELEHUB_ADMIN_ORIGINS`;
      return { refusal: { status: 403, problem: { code: 'origin_not_allowed', detail } } };
    }
    // Every admin connection is there to authenticate: an address over its failure budget is refused at once.
    const waitMs = this.throttle.check(address, TRANSPORT);
    if (waitMs > 0) {
      this.metrics.adminHandshakesRefused.inc({ reason: 'auth_throttled' });
      const seconds = retryAfterSeconds(waitMs);
      const detail = `${AUTH_THROTTLED_DETAIL}; try again in ${seconds} s`;
      return {
        refusal: {
          status: 429,
          problem: { code: 'auth_throttled', detail },
          headers: { 'Retry-After': String(seconds) },
        },
      };
    }
    const headerToken = bearerToken(request.headers.authorization);
    const check = headerToken === undefined ? undefined : await this.verify(headerToken, address);
    if (check?.ok === false && check.refusal === 'unavailable') {
      return {
        refusal: {
          status: 503,
          problem: { code: 'unavailable', detail: 'could not check the token; try again' },
          headers: { 'Retry-After': '5' },
        },
      };
    }
    return { identity: check?.ok ? check.identity : undefined };
  }

  /** The refusal of one more connection still to authenticate, when `waiting` are open already. */
  unauthenticatedRefusal(waiting: number): HandshakeRefusal | undefined {
    const { maxUnauthenticated, authTimeoutMs } = this.config.adminChannel;
    if (waiting < maxUnauthenticated) return undefined;
    this.metrics.adminHandshakesRefused.inc({ reason: 'unauthenticated_limit' });
    const detail = `${maxUnauthenticated} connections are waiting to authenticate (TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED)`;
    return {
      status: 503,
      problem: { code: 'too_many_unauthenticated', detail },
      headers: { 'Retry-After': String(retryAfterSeconds(authTimeoutMs)) },
    };
  }

  /**
   * An admin token checked within the address's failure budget: `throttled` when over it (nothing looked up),
   * `unavailable` when it could not be looked up (the database is down): never a rejection, which on a path any
   * stranger can reach would end the process.
   */
  async verify(token: string, address: string | undefined): Promise<ChannelTokenCheck> {
    if (this.throttle.check(address, TRANSPORT) > 0) return { ok: false, refusal: 'throttled' };
    let check: AdminTokenCheck;
    try {
      check = await this.adminTokens.verify(token);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not check an admin token');
      return { ok: false, refusal: 'unavailable' };
    }
    if (!check.ok) this.throttle.failed(address);
    return check;
  }
}
