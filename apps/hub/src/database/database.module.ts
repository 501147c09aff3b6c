import { type DynamicModule, Global, Module } from '@nestjs/common';
import {
  AdminInterestRepository,
  AdminTokenRepository,
  ClusterBusRepository,
  CommandRepository,
  type DatabaseClient,
  DeviceActivityRepository,
  DeviceEventRepository,
  DeviceListRepository,
  DevicePresenceRepository,
  DeviceRateRepository,
  DeviceRepository,
  DeviceTokenRepository,
  MqttSessionRepository,
  NodeLeaseRepository,
  ReadinessProbe,
  TelemetryRepository,
} from '@telehub/db';
import { DATABASE_CLIENT, DATABASE_MODE, INGEST_TELEMETRY, LATE_ROWS, type LateRows } from './database.tokens.js';
import type { HubDatabase } from './open-database.js';

const repositories = [
  { provide: DeviceRepository, make: (client: DatabaseClient) => new DeviceRepository(client.db) },
  { provide: DeviceTokenRepository, make: (client: DatabaseClient) => new DeviceTokenRepository(client.db) },
  { provide: AdminInterestRepository, make: (client: DatabaseClient) => new AdminInterestRepository(client) },
  { provide: AdminTokenRepository, make: (client: DatabaseClient) => new AdminTokenRepository(client) },
  { provide: TelemetryRepository, make: (client: DatabaseClient) => new TelemetryRepository(client) },
  { provide: DeviceEventRepository, make: (client: DatabaseClient) => new DeviceEventRepository(client) },
  { provide: DevicePresenceRepository, make: (client: DatabaseClient) => new DevicePresenceRepository(client) },
  { provide: CommandRepository, make: (client: DatabaseClient) => new CommandRepository(client) },
  { provide: DeviceListRepository, make: (client: DatabaseClient) => new DeviceListRepository(client) },
  { provide: DeviceActivityRepository, make: (client: DatabaseClient) => new DeviceActivityRepository(client) },
  { provide: NodeLeaseRepository, make: (client: DatabaseClient) => new NodeLeaseRepository(client) },
  { provide: MqttSessionRepository, make: (client: DatabaseClient) => new MqttSessionRepository(client) },
];

/** Hands the opened database and its repositories to the features. Opening and closing happen in create-hub. */
@Global()
@Module({})
export class DatabaseModule {
  static forDatabase(database: HubDatabase): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DATABASE_CLIENT, useValue: database.client },
        { provide: DATABASE_MODE, useValue: database.mode },
        { provide: ReadinessProbe, useValue: database.readiness },
        { provide: LATE_ROWS, useValue: { ageMs: database.compressionAgeMs } satisfies LateRows },
        { provide: INGEST_TELEMETRY, useValue: new TelemetryRepository(database.ingest) },
        ...repositories.map(({ provide, make }) => ({
          provide,
          useFactory: make,
          inject: [DATABASE_CLIENT],
        })),
        { provide: ClusterBusRepository, useValue: new ClusterBusRepository(database.client, database.notifier) },
        { provide: DeviceRateRepository, useValue: new DeviceRateRepository(database.rateLimiter) },
      ],
      exports: [
        DATABASE_CLIENT,
        DATABASE_MODE,
        LATE_ROWS,
        INGEST_TELEMETRY,
        ReadinessProbe,
        ...repositories.map(({ provide }) => provide),
        ClusterBusRepository,
        DeviceRateRepository,
      ],
    };
  }
}
