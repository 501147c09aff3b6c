import { Module } from '@nestjs/common';
import { AggregateRefresher } from './aggregate-refresher.service.js';
import { JobHealthMonitor } from './job-health.monitor.js';

/** TimescaleDB upkeep the database does not do by itself: aggregate refreshes after late rows, job failures. */
@Module({ providers: [AggregateRefresher, JobHealthMonitor], exports: [AggregateRefresher, JobHealthMonitor] })
export class TimescaleModule {}
