import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { countApplied, countMigrationFiles, type DatabaseClient, type DatabaseMode } from '@telehub/db';
import type { Response } from 'express';
import { Public } from '../admin-auth/public.decorator.js';
import { DATABASE_CLIENT, DATABASE_MODE } from '../database/database.tokens.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  private readonly expectedMigrations = countMigrationFiles();

  constructor(
    @Inject(DATABASE_CLIENT) private readonly database: DatabaseClient,
    @Inject(DATABASE_MODE) private readonly mode: DatabaseMode,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process is up' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database answers and every migration is applied' })
  async readyz(@Res({ passthrough: true }) response: Response) {
    try {
      const applied = await countApplied(this.database);
      const ready = applied >= this.expectedMigrations;
      response.status(ready ? 200 : 503);
      return {
        status: ready ? 'ready' : 'migrations_pending',
        database: 'up',
        mode: this.mode,
        migrations: { applied, expected: this.expectedMigrations },
      };
    } catch (error) {
      response.status(503);
      return { status: 'database_unavailable', database: 'down', detail: (error as Error).message };
    }
  }
}
