import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type Command,
  type CommandPage,
  CommandPageSchema,
  CommandParamsSchema,
  CommandSchema,
  CreateCommandQuerySchema,
  CreateCommandRequestSchema,
  DeviceParamsSchema,
  ListCommandsQuerySchema,
} from '@telehub/contracts';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { presentCommand } from './command.presenter.js';
import { CommandService } from './command.service.js';

@ApiTags('commands')
@ApiBearerAuth()
@Controller('api/v1/devices/:deviceId/commands')
export class CommandsController {
  constructor(private readonly commands: CommandService) {}

  @Post()
  @RequiresRole('operator')
  @ApiOperation({
    summary: 'Send a command to a device',
    description:
      'Queued at once and delivered when the device is (or next gets) connected. With `wait`, the request holds until the device answers or the wait ends, then returns the command as it stands: check `status`. 201 for a new command; 200 when `idempotencyKey` named an existing one made from the same `name`, `params` and `ttlSeconds`, which is returned instead; 422 `idempotency_key_reused` when that command was made from a different request.',
  })
  @ApiCreatedResponse({ standardSchema: CommandSchema })
  @ApiOkResponse({ description: 'An existing command with the same idempotency key', standardSchema: CommandSchema })
  @ProblemResponses(
    400,
    401,
    404,
    [422, '`idempotency_key_reused`: the key already created a command with another name, params or ttlSeconds'],
    [429, 'The device already has TELEHUB_COMMAND_MAX_QUEUED unfinished commands'],
  )
  async create(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: z.output<typeof DeviceParamsSchema>,
    @Query({ schema: CreateCommandQuerySchema }) query: z.output<typeof CreateCommandQuerySchema>,
    @Body({ schema: CreateCommandRequestSchema }) body: z.output<typeof CreateCommandRequestSchema>,
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
  @ApiOkResponse({ standardSchema: CommandPageSchema })
  @ProblemResponses(400, 401, 404)
  async list(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: z.output<typeof DeviceParamsSchema>,
    @Query({ schema: ListCommandsQuerySchema }) query: z.output<typeof ListCommandsQuerySchema>,
  ): Promise<CommandPage> {
    const { rows, hasMore } = await this.commands.list(deviceId, query);
    return { items: rows.map(presentCommand), nextCursor: hasMore ? (rows.at(-1)?.id ?? null) : null };
  }

  @Get(':commandId')
  @RequiresRole('viewer')
  @ApiOperation({ summary: 'One command, with its status timeline, result and error' })
  @ApiOkResponse({ standardSchema: CommandSchema })
  @ProblemResponses(400, 401, 404)
  async get(
    @Param({ schema: CommandParamsSchema }) { deviceId, commandId }: z.output<typeof CommandParamsSchema>,
  ): Promise<Command> {
    return presentCommand(await this.commands.get(deviceId, commandId));
  }

  @Post(':commandId/cancel')
  @RequiresRole('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a command that is not finished yet' })
  @ApiOkResponse({ standardSchema: CommandSchema })
  @ProblemResponses(400, 401, 404, [409, 'The command is already finished'])
  async cancel(
    @Param({ schema: CommandParamsSchema }) { deviceId, commandId }: z.output<typeof CommandParamsSchema>,
  ): Promise<Command> {
    return presentCommand(await this.commands.cancel(deviceId, commandId));
  }
}
