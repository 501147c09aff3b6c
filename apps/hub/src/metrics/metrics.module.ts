import { type DynamicModule, Module } from '@nestjs/common';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import type { HubConfig } from '../config/hub-config.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsListener } from './metrics.listener.js';
import { MetricsAccess } from './metrics-access.service.js';
import { MetricsAuthGuard } from './metrics-auth.guard.js';

/** /metrics: on the HTTP port, or only on its own port when TELEHUB_METRICS_PORT is set. HubMetrics is global. */
@Module({})
export class MetricsModule {
  static forConfig(config: HubConfig): DynamicModule {
    return {
      module: MetricsModule,
      imports: [AdminAuthModule, AuthThrottleModule],
      controllers: config.metrics.port === undefined ? [MetricsController] : [],
      providers: [MetricsAccess, MetricsAuthGuard, MetricsListener],
      exports: [MetricsListener],
    };
  }
}
