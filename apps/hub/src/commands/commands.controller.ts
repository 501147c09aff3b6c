import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import {
  type Command,
  CommandIdParamSchema,
  type CommandPage,
  CommandPageSchema,
  CommandSchema,
  CreateCommandQuerySchema,
  CreateCommandRequestSchema,
  DeviceIdParamSchema,
  ListCommandsQuerySchema,
} from '@telehub/contracts';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { openApiSchema } from '../openapi/zod-openapi.js';
import { presentCommand } from './command.presenter.js';
import { CommandService } from './command.service.js';

@ApiTags('commands')
@ApiBearerAuth()
@Controller('api/v1/devices/:deviceId/commands')
@ApiParam({ name: 'deviceId', description: 'Device id' })
export class CommandsController {
  constructor(private readonly commands: CommandService) {}

  @Post()
  @RequiresRole('operator')
  @ApiOperation({
    summary: 'Send a command to a device',
    description:
      'Queued at once and delivered when the device is (or next gets) connected. With `wait`, the request holds until the device answers or the wait ends, then returns the command as it stands: check `status`. 201 for a new command; 200 when `idempotencyKey` named an existing one made from the same `name`, `params` and `ttlSeconds`, which is returned instead; 422 `idempotency_key_reused` when that command was made from a different request.',
  })
  @ApiQuery({ name: 'wait', required: false, type: Number, description: 'Seconds to wait for the result' })
  @ApiBody({ schema: openApiSchema(CreateCommandRequestSchema, 'input') })
  @ApiCreatedResponse({ schema: openApiSchema(CommandSchema) })
  @ApiOkResponse({
    description: 'An existing command with the same idempotency key',
    schema: openApiSchema(CommandSchema),
  })
  @ProblemResponses(
    400,
    401,
    404,
    [422, '`idempotency_key_reused`: the key already created a command with another name, params or ttlSeconds'],
    [429, 'The device already has TELEHUB_COMMAND_MAX_QUEUED unfinished commands'],
  )
  async create(
    @Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema)) deviceId: string,
    @Query(new ZodValidationPipe(CreateCommandQuerySchema)) query: z.output<typeof CreateCommandQuerySchema>,
    @Body(new ZodValidationPipe(CreateCommandRequestSchema)) body: z.output<typeof CreateCommandRequestSchema>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<Command> {
    const { command, created } = await this.commands.create(deviceId, body);
    response.status(created ? 201 : 200);
    if (query.wait === undefined) return presentCommand(command);
    // A client that gives up should not keep a listener waiting for the full time.
    const abandoned = new AbortController();
    const onClose = () => abandoned.abort();
    request.once('close', onClose);
    try {
      return presentCommand(await this.commands.waitForFinal(command, query.wait, abandoned.signal));
    } finally {
      request.off('close', onClose);
    }
  }

  @Get()
  @RequiresRole('viewer')
  @ApiOperation({ summary: "A device's commands, newest first" })
  @ApiQuery({ name: 'status', required: false, description: 'Comma-separated statuses, e.g. `queued,sent`' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' })
  @ApiOkResponse({ schema: openApiSchema(CommandPageSchema) })
  @ProblemResponses(400, 401, 404)
  async list(
    @Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema)) deviceId: string,
    @Query(new ZodValidationPipe(ListCommandsQuerySchema)) query: z.output<typeof ListCommandsQuerySchema>,
  ): Promise<CommandPage> {
    const { rows, hasMore } = await this.commands.list(deviceId, query);
    return { items: rows.map(presentCommand), nextCursor: hasMore ? (rows.at(-1)?.id ?? null) : null };
  }

  @Get(':commandId')
  @RequiresRole('viewer')
  @ApiOperation({ summary: 'One command, with its status timeline, result and error' })
  @ApiOkResponse({ schema: openApiSchema(CommandSchema) })
  @ProblemResponses(400, 401, 404)
  async get(
    @Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema)) deviceId: string,
    @Param('commandId', new ZodValidationPipe(CommandIdParamSchema)) commandId: string,
  ): Promise<Command> {
    return presentCommand(await this.commands.get(deviceId, commandId));
  }

  @Post(':commandId/cancel')
  @RequiresRole('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a command that is not finished yet' })
  @ApiOkResponse({ schema: openApiSchema(CommandSchema) })
  @ProblemResponses(400, 401, 404, [409, 'The command is already finished'])
  async cancel(
    @Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema)) deviceId: string,
    @Param('commandId', new ZodValidationPipe(CommandIdParamSchema)) commandId: string,
  ): Promise<Command> {
    return presentCommand(await this.commands.cancel(deviceId, commandId));
  }
}
