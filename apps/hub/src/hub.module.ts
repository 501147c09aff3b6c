import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ActivityModule } from './activity/activity.module.js';
import { AdminAuthModule } from './admin-auth/admin-auth.module.js';
import { AdminChannelModule } from './admin-channel/admin-channel.module.js';
import { AdminTokensModule } from './admin-tokens/admin-tokens.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { CommandsModule } from './commands/commands.module.js';
import { ListeningPorts } from './common/listening-ports.js';
import { NodeIdentity } from './common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from './config/hub-config.js';
import { DatabaseModule } from './database/database.module.js';
import type { HubDatabase } from './database/open-database.js';
import { DevicesModule } from './devices/devices.module.js';
import { HubEvents } from './events/hub-events.js';
import { FleetModule } from './fleet/fleet.module.js';
import { HealthModule } from './health/health.module.js';
import { LOGGER } from './logging/logger.token.js';
import { HubMetrics } from './metrics/hub-metrics.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RetentionService } from './retention/retention.service.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';
import { TimescaleModule } from './timescale/timescale.module.js';
import { TransportsModule } from './transports/transports.module.js';

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
            { provide: NodeIdentity, useValue: new NodeIdentity(config.nodeId) },
            HubEvents,
            HubMetrics,
            ListeningPorts,
          ],
          exports: [HUB_CONFIG, LOGGER, NodeIdentity, HubEvents, HubMetrics, ListeningPorts],
        },
        DatabaseModule.forDatabase(database),
        AdminAuthModule,
        AdminTokensModule,
        HealthModule,
        ClusterModule,
        DevicesModule,
        ActivityModule,
        CommandsModule,
        TelemetryModule,
        TimescaleModule,
        FleetModule,
        TransportsModule,
        AdminChannelModule,
        MetricsModule.forConfig(config),
      ],
      providers: [RetentionService],
    };
  }
}
