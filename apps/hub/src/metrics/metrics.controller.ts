import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../admin-auth/public.decorator.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { HubMetrics } from './hub-metrics.js';
import { MetricsAuthGuard } from './metrics-auth.guard.js';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Prometheus scrape endpoint on the HTTP port (unless TELEHUB_METRICS_PORT moves it to a port of its own). */
@ApiTags('metrics')
@ApiBearerAuth('metrics')
@ApiBearerAuth()
@Public()
@UseGuards(MetricsAuthGuard)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: HubMetrics) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_TEXT)
  @ApiOperation({
    summary: 'Prometheus metrics of this hub process (with TELEHUB_WORKERS: of every worker, aggregated)',
    description:
      'The metrics token (TELEHUB_METRICS_TOKEN) or any admin token; no token with TELEHUB_METRICS_AUTH=none. With TELEHUB_METRICS_PORT set, served on that port only, not here.',
  })
  @ApiProduces(PROMETHEUS_TEXT)
  @ApiOkResponse({ description: 'The Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  @ProblemResponses([401, 'No token, or neither the metrics token nor a valid admin token'])
  scrape(): Promise<string> {
    return this.metrics.text();
  }
}
