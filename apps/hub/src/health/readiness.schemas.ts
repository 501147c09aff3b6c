import { z } from 'zod';

// What /readyz answers, for the OpenAPI document and the controller's return type.

const FailingJobSchema = z
  .object({
    jobId: z.number().int(),
    proc: z.string().describe('`policy_compression`, `policy_retention`, `policy_refresh_continuous_aggregate`, …'),
    relation: z.string().nullable().describe('The hypertable or continuous aggregate it works on'),
    totalFailures: z.number().int(),
    lastRunStartedAt: z.number().nullable().describe('Epoch milliseconds of the failed run'),
    lastSuccessAt: z.number().nullable().describe('Epoch milliseconds; null: never succeeded'),
    error: z.string().nullable(),
    sqlState: z.string().nullable(),
  })
  .meta({ id: 'FailingTimescaleJob' });

const ReadinessSchema = z.object({
  status: z.literal('ready'),
  database: z.literal('up'),
  mode: z.enum(['timescaledb', 'postgresql']),
  migrations: z.object({
    applied: z.number().int(),
    expected: z.number().int().describe('The migrations this hub ships'),
  }),
  timescaledbJobs: z
    .object({ failing: z.array(FailingJobSchema) })
    .optional()
    .describe('TimescaleDB background jobs whose last run failed; they do not make the hub unready'),
});

export const ReadySchema = ReadinessSchema.meta({ id: 'Ready' });

export const NotReadySchema = z
  .union([
    ReadinessSchema.extend({ status: z.literal('migrations_pending') }).describe('Migrations are not all applied'),
    z
      .object({
        status: z.literal('database_unavailable'),
        database: z.literal('down'),
        reason: z.enum(['timeout', 'error']).describe('`timeout`: no answer within TELEHUB_READY_TIMEOUT_MS'),
        detail: z.string(),
      })
      .describe('The database did not answer'),
  ])
  .meta({ id: 'NotReady' });

export type Readiness = z.output<typeof ReadySchema> | z.output<typeof NotReadySchema>;
