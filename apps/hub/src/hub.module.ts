import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AdminAuthModule } from './admin-auth/admin-auth.module.js';
import { HUB_CONFIG, type HubConfig } from './config/hub-config.js';
import { DatabaseModule } from './database/database.module.js';
import type { HubDatabase } from './database/open-database.js';
import { DevicesModule } from './devices/devices.module.js';
import { HealthModule } from './health/health.module.js';
import { LOGGER } from './logging/logger.token.js';

@Module({})
class CoreModule {}

/** Composition only: which feature modules make up the hub. */
@Module({})
export class HubModule {
  static forRoot(config: HubConfig, logger: Logger, database: HubDatabase): DynamicModule {
    return {
      module: HubModule,
      imports: [
        {
          module: CoreModule,
          global: true,
          providers: [
            { provide: HUB_CONFIG, useValue: config },
            { provide: LOGGER, useValue: logger },
          ],
          exports: [HUB_CONFIG, LOGGER],
        },
        DatabaseModule.forDatabase(database),
        AdminAuthModule,
        HealthModule,
        DevicesModule,
      ],
    };
  }
}
