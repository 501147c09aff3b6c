import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DeviceListRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logger.token.js';

/** Says at start-up when device search has no pg_trgm indexes (it works, scanning the table), and how to add them. */
@Injectable()
export class DeviceSearchIndexCheck implements OnApplicationBootstrap {
  constructor(
    private readonly list: DeviceListRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.list.searchIndexed().catch(() => true)) return;
    this.logger.warn(
      'device search (GET /api/v1/devices?search=) is not indexed: the database has no pg_trgm extension, so each search scans the devices table. Install PostgreSQL contrib on the server and run SELECT telehub_create_search_indexes(); in the hub database',
    );
  }
}
