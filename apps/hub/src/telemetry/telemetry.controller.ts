import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  DeviceParamsSchema,
  HISTORY_LIMITS,
  TelemetryHistoryQuerySchema,
  TelemetryHistorySchema,
} from '@telehub/contracts';
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { ClientGoneError, ResponseSink } from './response-sink.js';
import { TelemetryHistoryService } from './telemetry-history.service.js';

@ApiTags('telemetry')
@ApiBearerAuth()
@Controller('api/v1/devices')
export class TelemetryController {
  constructor(
    private readonly telemetryHistory: TelemetryHistoryService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get(':deviceId/telemetry')
  @RequiresRole('viewer')
  @ApiOperation({
    summary: "A device's telemetry history: bucketed for charts, raw, or as a CSV download",
    description: `Columnar series (uPlot takes \`[times, values]\` as they are), one per metric. Without \`bucket\` the hub picks a round size giving at most about ${HISTORY_LIMITS.autoBucketPoints} points per series; a bucketed answer covers whole buckets (aligned to UTC: days start at 00:00 UTC, weeks on Monday), so \`from\`/\`to\` in the answer may be wider than asked. JSON answers hold at most TELEHUB_HISTORY_MAX_POINTS points per series. \`format=csv\` streams \`time,metric,value\` rows (raw without \`bucket\`, bucketed with it), metric by metric, oldest first, with no points limit.`,
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description: 'The series (JSON), or with `format=csv` a `time,metric,value` CSV file',
    standardSchema: TelemetryHistorySchema,
  })
  @ProblemResponses(
    [400, 'Invalid input, or more than TELEHUB_HISTORY_MAX_POINTS points per series (`too_many_points`)'],
    401,
    404,
    [429, 'TELEHUB_HISTORY_CSV_MAX_EXPORTS CSV exports are already streaming'],
  )
  async history(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: z.output<typeof DeviceParamsSchema>,
    @Query({ schema: TelemetryHistoryQuerySchema }) query: z.output<typeof TelemetryHistoryQuerySchema>,
    @Res() response: Response,
  ): Promise<void> {
    if (query.format === 'json') {
      response.json(await this.telemetryHistory.deviceHistory(deviceId, query));
      return;
    }
    const sink = new ResponseSink(response, this.config.history.csvStallTimeoutMs);
    try {
      await this.telemetryHistory.exportCsv(deviceId, query, sink);
      sink.end();
    } catch (error) {
      // Before the first byte, the error is answered as Problem Details; after it, only a cut-off transfer can
      // tell the client the file is incomplete.
      if (!response.headersSent) throw error;
      if (error instanceof ClientGoneError)
        this.logger.debug({ deviceId, reason: error.message }, 'CSV export stopped');
      else this.logger.error({ err: error, deviceId }, 'CSV export failed midway');
      sink.abort();
    }
  }
}
