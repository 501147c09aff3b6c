import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthThrottle, authThrottledError } from '../auth/auth-throttle.js';
import { ApiError } from '../common/api-error.js';
import { AdminTokenService } from './admin-token.service.js';
import { bearerToken } from './bearer-token.js';
import { IS_PUBLIC } from './public.decorator.js';

/** Every route needs an admin bearer token unless it is marked @Public(). */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly adminTokens: AdminTokenService,
    private readonly throttle: AuthThrottle,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw ApiError.unauthorized('send an admin token as "Authorization: Bearer <token>"');
    // An address over its failure budget is refused before the token is looked up (AuthThrottle).
    const address = request.socket.remoteAddress;
    const waitMs = this.throttle.check(address, 'admin-http');
    if (waitMs > 0) throw authThrottledError(waitMs);
    if (!(await this.adminTokens.verify(token))) {
      this.throttle.failed(address);
      throw ApiError.unauthorized('the admin token is not valid');
    }
    return true;
  }
}
