import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import {
  BulkCreateDevicesRequestSchema,
  CreateDeviceRequestSchema,
  DEVICE_LIMITS,
  DEVICE_SORTS,
  DEVICE_STATUSES,
  DeleteDeviceQuerySchema,
  DeviceDetailSchema,
  DeviceEventSchema,
  DevicePageSchema,
  DeviceParamsSchema,
  DeviceSchema,
  DeviceWithTokenSchema,
  ListDeviceEventsQuerySchema,
  ListDevicesQuerySchema,
  UpdateDeviceRequestSchema,
} from '@telehub/contracts';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { BulkBody } from '../http-server/body-limit.decorator.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { BulkDevicesBodyInterceptor } from './bulk-devices-body.interceptor.js';
import { DeviceListService } from './device-list.service.js';
import { DevicesService } from './devices.service.js';
import { formatDevicesCsv } from './devices-csv.js';

type DeviceParams = z.output<typeof DeviceParamsSchema>;

@ApiTags('devices')
@ApiBearerAuth()
@Controller('api/v1/devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly deviceList: DeviceListService,
  ) {}

  @Post()
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Provision a device; its token is in the response, this once' })
  @ApiCreatedResponse({ standardSchema: DeviceWithTokenSchema })
  @ProblemResponses(400, 401)
  async create(@Body({ schema: CreateDeviceRequestSchema }) body: z.output<typeof CreateDeviceRequestSchema>) {
    const [device] = await this.devices.create([body]);
    return device;
  }

  @Post('bulk')
  @RequiresRole('admin')
  @BulkBody()
  @UseInterceptors(BulkDevicesBodyInterceptor)
  @ApiOperation({
    summary: `Provision up to ${DEVICE_LIMITS.bulkMaxDevices} devices at once, all or nothing`,
    description:
      'Body: a JSON array of devices, or CSV (`Content-Type: text/csv`) with a `name` column and optional `labels` (separated by `;`) and `metadata` (JSON) columns; any other, repeated or unnamed column is refused with 400 `validation_failed` naming it. With `Accept: text/csv` the answer is `id,name,token` CSV.',
  })
  @ApiConsumes('application/json', 'text/csv')
  @ApiProduces('application/json', 'text/csv')
  @ApiCreatedResponse({
    description:
      'The devices with their tokens, in the order given: JSON, or with `Accept: text/csv` a CSV file with the header row `id,name,token`',
    standardSchema: z.array(DeviceWithTokenSchema),
  })
  @ProblemResponses(400, 401, 413)
  async bulkCreate(
    @Body({ schema: BulkCreateDevicesRequestSchema }) entries: z.output<typeof BulkCreateDevicesRequestSchema>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const created = await this.devices.create(entries);
    if (request.accepts(['application/json', 'text/csv']) === 'text/csv') {
      response.type('text/csv');
      return formatDevicesCsv(created);
    }
    return created;
  }

  @Get()
  @RequiresRole('viewer')
  @ApiOperation({
    summary: 'List devices: filters, sort, cursor pagination, totals per status, optionally latest values',
    description:
      'Totals count every matching device, not only the page. A page with `latest=true` holds everything a dashboard row shows, in one request.',
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    description: '`nextCursor` of the previous page, unchanged, with the same `sort` (and filters)',
  })
  @ApiQuery({
    name: 'label',
    required: false,
    description: 'Only devices with this label; repeat for several (all must match)',
  })
  @ApiQuery({ name: 'namePrefix', required: false, description: 'Only devices whose name starts with this' })
  @ApiQuery({
    name: 'search',
    required: false,
    schema: { type: 'string', maxLength: DEVICE_LIMITS.searchMaxLength },
    description:
      'Only devices whose name or id contains this, ignoring case (`-04`, a piece of an id). Indexed with pg_trgm where the database has it; from 3 characters on the index narrows the search',
  })
  @ApiQuery({
    name: 'status',
    required: false,
    schema: { type: 'string', enum: [...DEVICE_STATUSES] },
    description:
      'Only devices with this status; repeat for several (any may match): `status=connected&status=active` is every device shown online',
  })
  @ApiQuery({
    name: 'sort',
    required: false,
    schema: { type: 'string', enum: [...DEVICE_SORTS], default: 'created' },
    description:
      '`created` (oldest first), `name`, `lastSeen` (least recently seen first, never seen before all); `-` reverses: `-lastSeen` is most recently seen first',
  })
  @ApiQuery({
    name: 'latest',
    required: false,
    schema: { type: 'boolean', default: false },
    description: "Include each device's latest value per metric (`latest`)",
  })
  @ApiOkResponse({ standardSchema: DevicePageSchema })
  @ProblemResponses(400, 401)
  list(@Query({ schema: ListDevicesQuerySchema }) query: z.output<typeof ListDevicesQuerySchema>) {
    return this.deviceList.page(query);
  }

  @Get(':deviceId')
  @RequiresRole('viewer')
  @ApiOperation({ summary: 'Get one device, with online state, latest values and reported state' })
  @ApiOkResponse({ standardSchema: DeviceDetailSchema })
  @ProblemResponses(400, 401, 404)
  get(@Param({ schema: DeviceParamsSchema }) { deviceId }: DeviceParams) {
    return this.devices.get(deviceId);
  }

  @Get(':deviceId/events')
  @RequiresRole('viewer')
  @ApiOperation({
    summary:
      'Recent events of a device, newest first: connects, disconnects with reasons, active/inactive, auth failures, rejected messages',
    description:
      'A burst of consecutive sessions each shorter than `shortSessionMs` (a device that connects for each message) is one `short_sessions` entry.',
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    description:
      'The `id` of the last event of the previous page: the page continues with older events. A page shorter than `limit` is the last.',
  })
  @ApiQuery({
    name: 'shortSessionMs',
    required: false,
    schema: {
      type: 'integer',
      default: DEVICE_LIMITS.shortSessionMs,
      minimum: 0,
      maximum: DEVICE_LIMITS.shortSessionMaxMs,
    },
    description:
      'Sessions at most this long are grouped when two or more follow one another; `0`: every event as recorded',
  })
  @ApiOkResponse({ standardSchema: z.array(DeviceEventSchema) })
  @ProblemResponses(400, 401, 404)
  events(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: DeviceParams,
    @Query({ schema: ListDeviceEventsQuerySchema }) query: z.output<typeof ListDeviceEventsQuerySchema>,
  ) {
    return this.devices.recentEvents(deviceId, query);
  }

  @Patch(':deviceId')
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Update name, labels, metadata, disabled or the inactivity timeout' })
  @ApiOkResponse({ standardSchema: DeviceSchema })
  @ProblemResponses(400, 401, 404)
  update(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: DeviceParams,
    @Body({ schema: UpdateDeviceRequestSchema }) body: z.output<typeof UpdateDeviceRequestSchema>,
  ) {
    return this.devices.update(deviceId, body);
  }

  @Delete(':deviceId')
  @RequiresRole('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a device and its tokens; telemetry is kept unless purgeTelemetry=true' })
  @ApiNoContentResponse({ description: 'Deleted (the answer has no body)' })
  @ProblemResponses(400, 401, 404)
  async delete(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: DeviceParams,
    @Query({ schema: DeleteDeviceQuerySchema }) query: z.output<typeof DeleteDeviceQuerySchema>,
  ) {
    await this.devices.delete(deviceId, query.purgeTelemetry);
  }
}
