import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { countMigrationFiles, type DatabaseMode, ReadinessProbe } from '@telehub/db';
import type { Response } from 'express';
import { Public } from '../admin-auth/public.decorator.js';
import { DATABASE_MODE } from '../database/database.tokens.js';
import { NotReadySchema, type Readiness, ReadySchema } from './readiness.schemas.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  private readonly expectedMigrations = countMigrationFiles();

  constructor(
    private readonly readiness: ReadinessProbe,
    @Inject(DATABASE_MODE) private readonly mode: DatabaseMode,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process is up' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({
    summary: 'Readiness: the database answers and every migration is applied',
    description:
      'Checked on a connection of its own, never queued behind ingest; no answer within TELEHUB_READY_TIMEOUT_MS is 503 with reason `timeout`. On TimescaleDB, `timescaledbJobs.failing` lists background jobs whose last run failed (readiness stays 200).',
  })
  @ApiOkResponse({ description: 'Ready', standardSchema: ReadySchema })
  @ApiServiceUnavailableResponse({
    description: 'Not ready: the database did not answer (in time), or migrations are pending',
    standardSchema: NotReadySchema,
  })
  async readyz(@Res({ passthrough: true }) response: Response): Promise<Readiness> {
    const result = await this.readiness.check();
    if (!result.ok) {
      response.status(503);
      const detail =
        result.reason === 'timeout'
          ? `${result.detail} (TELEHUB_READY_TIMEOUT_MS=${this.readiness.options.timeoutMs})`
          : result.detail;
      return { status: 'database_unavailable', database: 'down', reason: result.reason, detail };
    }
    const applied = result.appliedMigrations;
    const ready = applied >= this.expectedMigrations;
    response.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'migrations_pending',
      database: 'up',
      mode: this.mode,
      migrations: { applied, expected: this.expectedMigrations },
      // Failing background jobs do not make the hub unready (it serves on), but they are named here: their
      // compression, retention or refreshes are not happening.
      ...(result.failingJobs ? { timescaledbJobs: { failing: result.failingJobs } } : {}),
    };
  }
}
