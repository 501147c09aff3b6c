import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { DEVICE_LIMITS } from '@telehub/contracts';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ApiError } from '../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { parseDevicesCsv } from './devices-csv.js';

/**
 * Makes a bulk provisioning body an array of devices before the validation pipe sees it: interceptors run
 * before pipes, so `@Body({ schema })` validates CSV rows exactly as it validates JSON ones. A list too long is
 * 413 here, before the schema would call it a 400.
 */
@Injectable()
export class BulkDevicesBodyInterceptor implements NestInterceptor {
  constructor(@Inject(HUB_CONFIG) private readonly config: HubConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    // The body interceptor read `text/csv` as a string (and JSON as JSON).
    if (typeof request.body === 'string') {
      request.body = parseDevicesCsv(request.body, this.config.payloads.jsonMaxDepth);
    }
    const entries: unknown = request.body;
    if (Array.isArray(entries) && entries.length > DEVICE_LIMITS.bulkMaxDevices) {
      throw new ApiError(
        413,
        'too_many_devices',
        'Bulk request too large',
        `at most ${DEVICE_LIMITS.bulkMaxDevices} devices per request, got ${entries.length}`,
      );
    }
    return next.handle();
  }
}
