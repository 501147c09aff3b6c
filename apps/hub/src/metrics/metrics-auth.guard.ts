import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { MetricsAccess } from './metrics-access.service.js';

/** /metrics on the HTTP port: the admin guard lets it through (@Public), this one applies TELEHUB_METRICS_AUTH. */
@Injectable()
export class MetricsAuthGuard implements CanActivate {
  constructor(private readonly access: MetricsAccess) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const refusal = await this.access.refusal(request.headers.authorization, request.socket.remoteAddress);
    if (refusal) throw refusal;
    return true;
  }
}
