import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type AdminRole, roleAllows } from '@telehub/contracts';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { AuthThrottle, authThrottledError } from '../auth/auth-throttle.js';
import { ApiError } from '../common/api-error.js';
import { LOGGER } from '../logging/logger.token.js';
import { type AdminTokenRefusal, setRequestIdentity } from './admin-identity.js';
import { AdminTokenService } from './admin-token.service.js';
import { bearerToken } from './bearer-token.js';
import { IS_PUBLIC } from './public.decorator.js';
import { REQUIRED_ROLE } from './requires-role.decorator.js';

const REFUSALS: Record<AdminTokenRefusal, string> = {
  unknown: 'the admin token is not valid',
  revoked: 'the admin token was revoked',
  expired: 'the admin token has expired',
};

/**
 * The one place REST routes are authorised. Every route needs an admin bearer token unless it is marked
 * @Public(), and the role its @RequiresRole() names: 401 without a token that works, 403 when its role is not
 * enough. A route with neither decorator is refused to every token (default deny). An address over its
 * failure budget (AuthThrottle) gets 429 before its token is looked up; a token that is not valid counts
 * against it.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly undecided = new Set<string>();

  constructor(
    private readonly reflector: Reflector,
    private readonly adminTokens: AdminTokenService,
    private readonly throttle: AuthThrottle,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw ApiError.unauthorized('send an admin token as "Authorization: Bearer <token>"');
    const address = request.socket?.remoteAddress;
    const waitMs = this.throttle.check(address, 'admin-http');
    if (waitMs > 0) throw authThrottledError(waitMs);
    const check = await this.adminTokens.verify(token);
    if (!check.ok) {
      // Revoked and expired tokens count too: to a guesser they are as useless as unknown ones.
      this.throttle.failed(address);
      throw ApiError.unauthorized(REFUSALS[check.refusal]);
    }
    setRequestIdentity(request, check.identity);
    const needed = this.reflector.getAllAndOverride<AdminRole | undefined>(REQUIRED_ROLE, targets);
    if (!needed) {
      const route = `${context.getClass().name}.${context.getHandler().name}`;
      if (!this.undecided.has(route)) {
        this.undecided.add(route);
        this.logger.error({ route }, 'route has neither @RequiresRole() nor @Public(): every token is refused');
      }
      throw ApiError.forbidden('no role may use this route: it has no role decision (a defect of the hub)');
    }
    if (!roleAllows(check.identity.role, needed)) {
      throw ApiError.forbidden(
        `this needs the ${needed} role; the admin token "${check.identity.name}" has the ${check.identity.role} role`,
      );
    }
    return true;
  }
}
