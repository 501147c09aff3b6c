import { z } from 'zod';

/** Limits on what an admin may store on a device; named so docs and validation agree. */
export const DEVICE_LIMITS = {
  nameMaxLength: 200,
  labelsMax: 50,
  labelMaxLength: 100,
  metadataMaxBytes: 16 * 1024,
  bulkMaxDevices: 10_000,
  pageMaxLimit: 1000,
} as const;

const label = z
  .string()
  .min(1)
  .max(DEVICE_LIMITS.labelMaxLength)
  .regex(/^[\w.:/-]+$/, 'labels hold letters, digits and . _ : / - only');

const metadata = z
  .record(z.string(), z.unknown())
  .refine((value) => JSON.stringify(value).length <= DEVICE_LIMITS.metadataMaxBytes, {
    message: `metadata must serialize to at most ${DEVICE_LIMITS.metadataMaxBytes} bytes`,
  });

export const CreateDeviceRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(DEVICE_LIMITS.nameMaxLength),
    labels: z.array(label).max(DEVICE_LIMITS.labelsMax).default([]),
    metadata: metadata.default({}),
  })
  .strict()
  .meta({ id: 'CreateDeviceRequest' });
export type CreateDeviceRequest = z.infer<typeof CreateDeviceRequestSchema>;

export const UpdateDeviceRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(DEVICE_LIMITS.nameMaxLength).optional(),
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
    namePrefix: z.string().min(1).max(DEVICE_LIMITS.nameMaxLength).optional(),
  })
  .strict();
export type ListDevicesQuery = z.infer<typeof ListDevicesQuerySchema>;

export const DeleteDeviceQuerySchema = z
  .object({ purgeTelemetry: z.enum(['true', 'false']).default('false') })
  .strict()
  .transform(({ purgeTelemetry }) => ({ purgeTelemetry: purgeTelemetry === 'true' }));

export const DeviceIdParamSchema = z.string().uuid({ message: 'device id must be a UUID' });

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
  })
  .meta({ id: 'Device' });
export type Device = z.infer<typeof DeviceSchema>;

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
