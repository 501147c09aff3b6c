import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../admin-auth/public.decorator.js';
import { HubMetrics } from './hub-metrics.js';
import { MetricsAuthGuard } from './metrics-auth.guard.js';

/** Prometheus scrape endpoint on the HTTP port (unless TELEHUB_METRICS_PORT moves it to a port of its own). */
@ApiExcludeController()
@Public()
@UseGuards(MetricsAuthGuard)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: HubMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
