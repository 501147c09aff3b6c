import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
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
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const token = bearerToken(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (!token) throw ApiError.unauthorized('send an admin token as "Authorization: Bearer <token>"');
    if (!(await this.adminTokens.verify(token))) throw ApiError.unauthorized('the admin token is not valid');
    return true;
  }
}
