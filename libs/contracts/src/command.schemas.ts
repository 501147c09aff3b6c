import { z } from 'zod';
import { DeviceParamsSchema } from './device.schemas.js';
import { isStorableJson, isStorableText, UNSTORABLE_TEXT_MESSAGE } from './json-safety.js';

/** queued → sent → delivered → succeeded | failed; expired and cancelled from any of the first three. */
export const COMMAND_STATUSES = ['queued', 'sent', 'delivered', 'succeeded', 'failed', 'expired', 'cancelled'] as const;
export const CommandStatusSchema = z.enum(COMMAND_STATUSES).meta({ id: 'CommandStatus' });
export type CommandStatus = z.infer<typeof CommandStatusSchema>;

export const FINAL_COMMAND_STATUSES: readonly CommandStatus[] = ['succeeded', 'failed', 'expired', 'cancelled'];

export function isFinalCommandStatus(status: CommandStatus): boolean {
  return FINAL_COMMAND_STATUSES.includes(status);
}

/** Fixed shape limits; the size, time-to-live and queue limits are hub settings (TELEHUB_COMMAND_*). */
export const COMMAND_LIMITS = {
  nameMaxLength: 64,
  idempotencyKeyMaxLength: 200,
  errorMaxLength: 2000,
  pageMaxLimit: 500,
} as const;

const commandName = z
  .string()
  .min(1)
  .max(COMMAND_LIMITS.nameMaxLength)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'command names hold letters, digits and _ . : - only, like "set_interval"');

export const CreateCommandRequestSchema = z
  .object({
    name: commandName,
    params: z
      .unknown()
      .optional()
      .refine((value) => value === undefined || isStorableJson(value), UNSTORABLE_TEXT_MESSAGE)
      .describe('Any JSON; {} when left out. Size limit: TELEHUB_COMMAND_MAX_PARAMS_BYTES'),
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Time-to-live: expired when no result came within it. Default and maximum are hub settings'),
    idempotencyKey: z
      .string()
      .min(1)
      .max(COMMAND_LIMITS.idempotencyKeyMaxLength)
      .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
      .optional()
      .describe(
        'The same key for the same device returns the existing command instead of creating another, when name, params and ttlSeconds are the same too; otherwise 422 idempotency_key_reused',
      ),
  })
  .strict()
  .meta({ id: 'CreateCommandRequest' });
export type CreateCommandRequest = z.infer<typeof CreateCommandRequestSchema>;

export const CreateCommandQuerySchema = z
  .object({
    wait: z.coerce
      .number()
      .min(0)
      .optional()
      .describe('Hold the request up to this many seconds for the result; then answer with the command as it stands'),
  })
  .strict();

export const ListCommandsQuerySchema = z
  .object({
    status: z
      .string()
      .optional()
      .transform((value, context) => {
        const statuses = value ? value.split(',').map((item) => item.trim()) : [];
        const unknown = statuses.filter((item) => !(COMMAND_STATUSES as readonly string[]).includes(item));
        if (unknown.length > 0) {
          context.addIssue({
            code: 'custom',
            message: `unknown status ${unknown.join(', ')}: use ${COMMAND_STATUSES.join(', ')}`,
          });
        }
        return statuses as CommandStatus[];
      })
      .describe('Comma-separated statuses, e.g. `queued,sent`'),
    limit: z.coerce.number().int().min(1).max(COMMAND_LIMITS.pageMaxLimit).default(50),
    cursor: z.string().uuid().optional(),
  })
  .strict();
export type ListCommandsQuery = z.infer<typeof ListCommandsQuerySchema>;

export const CommandIdParamSchema = z.string().uuid({ message: 'command id must be a UUID' });
export const CommandParamsSchema = DeviceParamsSchema.extend({
  commandId: CommandIdParamSchema.describe('Command id'),
});

export const CommandSchema = z
  .object({
    id: z.string().uuid().describe('Also what the device uses to drop duplicates (delivery is at-least-once)'),
    deviceId: z.string().uuid(),
    name: z.string(),
    params: z.unknown(),
    status: CommandStatusSchema,
    idempotencyKey: z.string().nullable(),
    createdAt: z.string().describe('RFC 3339'),
    expiresAt: z.string(),
    sentAt: z.string().nullable().describe('Last time it was written to the device connection'),
    deliveredAt: z.string().nullable().describe("When the device's transport acknowledged it"),
    finishedAt: z.string().nullable(),
    sendCount: z.number().int(),
    result: z.unknown().describe("The device's result (JSON), null until it answers"),
    error: z.string().nullable().describe("The device's error text, for a failed command"),
    transitions: z
      .array(z.object({ status: CommandStatusSchema, at: z.string() }))
      .describe('Every status the command went through, with its time, oldest first'),
  })
  .meta({ id: 'Command' });
export type Command = z.infer<typeof CommandSchema>;

export const CommandPageSchema = z
  .object({
    items: z.array(CommandSchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next (older) page; null on the last page.'),
  })
  .meta({ id: 'CommandPage' });
export type CommandPage = z.infer<typeof CommandPageSchema>;

/** What the hub sends a device (MQTT payload on devices/{id}/commands; a WebSocket frame adds "type"). */
export interface CommandMessage {
  id: string;
  name: string;
  params: unknown;
  /** RFC 3339 */
  expiresAt: string;
}

/** What a device answers (MQTT payload on devices/{id}/commands/{commandId}/result). */
export const CommandResultPayloadSchema = z
  .object({
    status: z.enum(['ok', 'error']),
    result: z.unknown().optional(),
    error: z.string().max(COMMAND_LIMITS.errorMaxLength).optional(),
  })
  .strict();
export type CommandResultPayload = z.infer<typeof CommandResultPayloadSchema>;
