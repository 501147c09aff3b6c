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
  searchMaxLength: 200,
  eventsPageMaxLimit: 500,
  /**
   * Recorded events one events request reads at most while it groups short sessions: a burst longer than this
   * is answered as several `short_sessions` entries, one per page.
   */
  eventsScanMax: 10_000,
  /** A per-device inactivity timeout: 1 second to 30 days. */
  inactivityTimeoutMaxSeconds: 30 * 24 * 3600,
  /** Sessions shorter than this are grouped by the events API unless it is asked otherwise (`shortSessionMs`). */
  shortSessionMs: 10_000,
  shortSessionMaxMs: 3_600_000,
} as const;

/** What the dashboard shows: a live session (connected), else heard from within the inactivity timeout (active). */
export const DEVICE_STATUSES = ['connected', 'active', 'offline'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/**
 * Sort orders of the device list; `-` reverses. `created` is oldest first; `lastSeen` is least recently seen
 * first, devices never seen before all others (so `-lastSeen` is most recently seen first, never seen last).
 */
export const DEVICE_SORTS = ['created', '-created', 'name', '-name', 'lastSeen', '-lastSeen'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

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

const inactivityTimeoutSeconds = z
  .number()
  .int()
  .min(1)
  .max(DEVICE_LIMITS.inactivityTimeoutMaxSeconds)
  .nullable()
  .describe(
    "Seconds without a message or a live session after which the device is inactive; null: the hub's TELEHUB_DEVICE_INACTIVITY_TIMEOUT_S",
  );

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
    inactivityTimeoutSeconds: inactivityTimeoutSeconds.optional(),
  })
  .strict()
  .meta({ id: 'UpdateDeviceRequest' });
export type UpdateDeviceRequest = z.infer<typeof UpdateDeviceRequestSchema>;

export const BulkCreateDevicesRequestSchema = z
  .array(CreateDeviceRequestSchema)
  .min(1)
  .max(DEVICE_LIMITS.bulkMaxDevices)
  .meta({ id: 'BulkCreateDevicesRequest' });

/** One value or a repeated query parameter, as a list. */
const repeated = <T extends z.ZodType>(item: T) =>
  z
    .union([item, z.array(item)])
    .optional()
    .transform((value): z.output<T>[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]));

export const ListDevicesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(DEVICE_LIMITS.pageMaxLimit).default(100),
    // Checked against `sort` by the hub: the id of the last device for `created`/`-created`, else an opaque token.
    cursor: z.string().min(1).max(500).optional(),
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
    search: z
      .string()
      .trim()
      .min(1)
      .max(DEVICE_LIMITS.searchMaxLength)
      .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
      .optional(),
    status: repeated(z.enum(DEVICE_STATUSES)),
    sort: z.enum(DEVICE_SORTS).default('created'),
    latest: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true'),
  })
  .strict();
export type ListDevicesQuery = z.infer<typeof ListDevicesQuerySchema>;

export const ListDeviceEventsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(DEVICE_LIMITS.eventsPageMaxLimit).default(50),
    shortSessionMs: z.coerce
      .number()
      .int()
      .min(0)
      .max(DEVICE_LIMITS.shortSessionMaxMs)
      .default(DEVICE_LIMITS.shortSessionMs),
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
    lastSeenAt: z
      .string()
      .nullable()
      .describe('When the device was last heard from: a message (any transport), a connect or a disconnect'),
    online: z
      .boolean()
      .describe('Connected: a live session exists now (as last recorded by the hub holding it), over `transport`'),
    active: z
      .boolean()
      .describe(
        'Heard from within its inactivity timeout (a message, a connect, or a live session), as the hub last checked (every TELEHUB_ACTIVITY_CHECK_INTERVAL_MS)',
      ),
    status: z
      .enum(DEVICE_STATUSES)
      .describe(
        '`connected` (a live session), else `active` (heard from within its inactivity timeout, e.g. over HTTP or in short sessions), else `offline`. Connected and active devices are shown online',
      ),
    inactivityTimeoutSeconds,
    transport: z
      .string()
      .nullable()
      .describe('mqtt, mqtt-ws, mqtt-tls or ws: of the current or last session (HTTP holds no session)'),
    connectedAt: z.string().nullable(),
    disconnectedAt: z.string().nullable(),
    disconnectReason: z.string().nullable(),
  })
  .meta({ id: 'Device' });
export type Device = z.infer<typeof DeviceSchema>;

/**
 * What a device's session told the hub about itself when it connected, as its presence records it (the same in
 * the admin channel's `presence` messages). Strings from the device are cut to TELEHUB_EVENT_MAX_STRING_BYTES.
 */
export const SessionDetailsSchema = z.object({
  mqttProtocolLevel: z
    .union([z.literal(4), z.literal(5)])
    .nullable()
    .describe('The protocol level of its CONNECT: 4 is MQTT 3.1.1, 5 is MQTT 5.0; null for the JSON WebSocket'),
  clientId: z
    .string()
    .nullable()
    .describe("MQTT: the client identifier (the hub's `telehub-…` when it assigned one); null for the JSON WebSocket"),
  keepAliveSeconds: z
    .number()
    .int()
    .nullable()
    .describe(
      'MQTT: the keep-alive the session holds to (0: none); JSON WebSocket: how often the hub pings the device',
    ),
  remoteAddress: z
    .string()
    .nullable()
    .describe('The address the connection came from, as the hub saw it (IPv4-mapped IPv6 shown as IPv4)'),
});
export type SessionDetails = z.infer<typeof SessionDetailsSchema>;

export const DeviceSessionSchema = z
  .object({
    live: z.boolean().describe('true: the live session; false: the last one, which ended at `endedAt`'),
    transport: z.string().describe('mqtt, mqtt-ws, mqtt-tls or ws'),
    ...SessionDetailsSchema.shape,
    node: z.string().nullable().describe('The hub process that holds (or held) it: its TELEHUB_NODE_ID'),
    connectedAt: z.string().describe('RFC 3339'),
    endedAt: z.string().nullable().describe('RFC 3339; null while it is live'),
  })
  .describe(
    "The device's live session, else its last one; null when it never held one (an HTTP device). Details a session recorded before the hub kept them are null",
  )
  .meta({ id: 'DeviceSession' });
export type DeviceSession = z.infer<typeof DeviceSessionSchema>;

const LatestValuesSchema = z
  .record(z.string(), z.object({ value: z.number(), time: z.string() }))
  .describe('The newest value of each metric');

export const DeviceDetailSchema = DeviceSchema.extend({
  session: DeviceSessionSchema.nullable(),
  latest: LatestValuesSchema,
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
        'connected, disconnected, active, inactive, short_sessions, auth_failed, message_rejected, rate_limited, connect_rate_limited, command_*. `short_sessions` stands for a burst of consecutive sessions each shorter than `shortSessionMs` (`detail`: count, from, to, transports, reasons: disconnect reasons counted); its `id` is that of its oldest event, so a page ending with it continues after it',
      ),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'DeviceEvent' });
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

export const DeviceWithTokenSchema = DeviceSchema.extend({
  token: z.string().describe('Shown once, at creation: store it on the device.'),
}).meta({ id: 'DeviceWithToken' });
export type DeviceWithToken = z.infer<typeof DeviceWithTokenSchema>;

export const DeviceListItemSchema = DeviceSchema.extend({
  latest: LatestValuesSchema.optional().describe('The newest value of each metric, with `latest=true`'),
}).meta({ id: 'DeviceListItem' });
export type DeviceListItem = z.infer<typeof DeviceListItemSchema>;

export const DeviceTotalsSchema = z
  .object({
    matching: z.number().int().describe('Devices that match every filter, `status` included'),
    connected: z.number().int().describe('Of the devices matching the other filters (all but `status`): connected'),
    active: z.number().int().describe('…active without a live session'),
    offline: z.number().int().describe('…offline'),
  })
  .describe('Counted by the hub over all matching devices, not only this page')
  .meta({ id: 'DeviceTotals' });
export type DeviceTotals = z.infer<typeof DeviceTotalsSchema>;

export const DevicePageSchema = z
  .object({
    items: z.array(DeviceListItemSchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page.'),
    totals: DeviceTotalsSchema,
  })
  .meta({ id: 'DevicePage' });
export type DevicePage = z.infer<typeof DevicePageSchema>;
