import { z } from 'zod';
import { isStorableJson, isStorableText, UNSTORABLE_TEXT_MESSAGE } from './json-safety.js';

/** Limits on what an admin may store on a device; named so docs and validation agree. */
export const DEVICE_LIMITS = {
  nameMaxLength: 200,
  labelsMax: 50,
  labelMaxLength: 100,
  metadataMaxBytes: 16 * 1024,
  bulkMaxDevices: 10_000,
  pageMaxLimit: 1000,
  eventsPageMaxLimit: 500,
} as const;

const label = z
  .string()
  .min(1)
  .max(DEVICE_LIMITS.labelMaxLength)
  .regex(/^[\w.:/-]+$/, 'labels hold letters, digits and . _ : / - only');

const utf8 = new TextEncoder();

// What PostgreSQL cannot store (json-safety.ts) is refused here: a 400 naming the field, not a failed insert.

const deviceName = z
  .string()
  .trim()
  .min(1)
  .max(DEVICE_LIMITS.nameMaxLength)
  .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

const metadata = z
  .record(z.string(), z.unknown())
  // Bytes, not string length: one non-ASCII character is two to four bytes once stored.
  .refine((value) => utf8.encode(JSON.stringify(value)).length <= DEVICE_LIMITS.metadataMaxBytes, {
    message: `metadata must serialize to at most ${DEVICE_LIMITS.metadataMaxBytes} bytes`,
  })
  .refine(isStorableJson, UNSTORABLE_TEXT_MESSAGE);

export const CreateDeviceRequestSchema = z
  .object({
    name: deviceName,
    labels: z.array(label).max(DEVICE_LIMITS.labelsMax).default([]),
    metadata: metadata.default({}),
  })
  .strict()
  .meta({ id: 'CreateDeviceRequest' });
export type CreateDeviceRequest = z.infer<typeof CreateDeviceRequestSchema>;

export const UpdateDeviceRequestSchema = z
  .object({
    name: deviceName.optional(),
    labels: z.array(label).max(DEVICE_LIMITS.labelsMax).optional(),
    metadata: metadata.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'UpdateDeviceRequest' });
export type UpdateDeviceRequest = z.infer<typeof UpdateDeviceRequestSchema>;

export const BulkCreateDevicesRequestSchema = z
  .array(CreateDeviceRequestSchema)
  .min(1)
  .max(DEVICE_LIMITS.bulkMaxDevices)
  .meta({ id: 'BulkCreateDevicesRequest' });

export const ListDevicesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(DEVICE_LIMITS.pageMaxLimit).default(100),
    cursor: z.string().uuid().optional(),
    label: z
      .union([label, z.array(label)])
      .optional()
      .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value])),
    namePrefix: z
      .string()
      .min(1)
      .max(DEVICE_LIMITS.nameMaxLength)
      .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
      .optional(),
  })
  .strict();
export type ListDevicesQuery = z.infer<typeof ListDevicesQuerySchema>;

export const ListDeviceEventsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(DEVICE_LIMITS.eventsPageMaxLimit).default(50),
    // Event ids are bigserial; 15 digits stay below Number.MAX_SAFE_INTEGER.
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,14}$/, 'cursor must be the id of the last event of the previous page')
      .transform(Number)
      .optional(),
  })
  .strict();
export type ListDeviceEventsQuery = z.infer<typeof ListDeviceEventsQuerySchema>;

export const DeleteDeviceQuerySchema = z
  .object({ purgeTelemetry: z.enum(['true', 'false']).default('false') })
  .strict()
  .transform(({ purgeTelemetry }) => ({ purgeTelemetry: purgeTelemetry === 'true' }));

export const DeviceIdParamSchema = z.string().uuid({ message: 'device id must be a UUID' });
/** The path parameters of /devices/{deviceId}/…: validated as one object, so a bad one is named by its key. */
export const DeviceParamsSchema = z.object({ deviceId: DeviceIdParamSchema.describe('Device id') });

export const DeviceSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    labels: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    disabled: z.boolean(),
    createdAt: z.string().describe('RFC 3339'),
    updatedAt: z.string(),
    lastSeenAt: z.string().nullable(),
    online: z.boolean().describe('A live session exists (as last recorded by the hub holding it)'),
    transport: z.string().nullable().describe('mqtt, mqtt-ws, mqtt-tls or ws: of the current or last session'),
    connectedAt: z.string().nullable(),
    disconnectedAt: z.string().nullable(),
    disconnectReason: z.string().nullable(),
  })
  .meta({ id: 'Device' });
export type Device = z.infer<typeof DeviceSchema>;

export const DeviceDetailSchema = DeviceSchema.extend({
  latest: z
    .record(z.string(), z.object({ value: z.number(), time: z.string() }))
    .describe('The newest value of each metric'),
  state: z.record(z.string(), z.unknown()).describe("The device's reported state"),
  stateUpdatedAt: z.string().nullable(),
}).meta({ id: 'DeviceDetail' });
export type DeviceDetail = z.infer<typeof DeviceDetailSchema>;

export const DeviceEventSchema = z
  .object({
    id: z.number().int(),
    time: z.string(),
    type: z
      .string()
      .describe(
        'connected, disconnected, auth_failed, message_rejected, rate_limited, connect_rate_limited, command_*',
      ),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'DeviceEvent' });
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

export const DeviceWithTokenSchema = DeviceSchema.extend({
  token: z.string().describe('Shown once, at creation: store it on the device.'),
}).meta({ id: 'DeviceWithToken' });
export type DeviceWithToken = z.infer<typeof DeviceWithTokenSchema>;

export const DevicePageSchema = z
  .object({
    items: z.array(DeviceSchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page.'),
  })
  .meta({ id: 'DevicePage' });
export type DevicePage = z.infer<typeof DevicePageSchema>;
