import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  DeviceParamsSchema,
  DeviceTokenInfoSchema,
  DeviceTokenParamsSchema,
  IssuedDeviceTokenSchema,
  IssueTokenRequestSchema,
} from '@telehub/contracts';
import { z } from 'zod';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { DeviceTokensService } from './device-tokens.service.js';

@ApiTags('device tokens')
@ApiBearerAuth()
@Controller('api/v1/devices/:deviceId/tokens')
export class DeviceTokensController {
  constructor(private readonly tokens: DeviceTokensService) {}

  @Post()
  @RequiresRole('admin')
  @ApiOperation({
    summary: 'Issue a new token for the device (shown once)',
    description: 'For rotation without downtime, set `expireOthersInSeconds`: the old tokens keep working until then.',
  })
  @ApiBody({ required: false })
  @ApiCreatedResponse({ standardSchema: IssuedDeviceTokenSchema })
  @ProblemResponses(400, 401, 404)
  issue(
    @Param({ schema: DeviceParamsSchema }) { deviceId }: z.output<typeof DeviceParamsSchema>,
    @Body({ schema: IssueTokenRequestSchema.default({}) }) body: z.output<typeof IssueTokenRequestSchema>,
  ) {
    return this.tokens.issue(deviceId, body);
  }

  @Get()
  @RequiresRole('viewer')
  @ApiOperation({ summary: "List the device's tokens (hints only, never the secret)" })
  @ApiOkResponse({ standardSchema: z.array(DeviceTokenInfoSchema) })
  @ProblemResponses(400, 401, 404)
  list(@Param({ schema: DeviceParamsSchema }) { deviceId }: z.output<typeof DeviceParamsSchema>) {
    return this.tokens.list(deviceId);
  }

  @Delete(':tokenId')
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Revoke one token; it stops working at once' })
  @ApiOkResponse({ standardSchema: DeviceTokenInfoSchema })
  @ProblemResponses(400, 401, 404, 409)
  revoke(@Param({ schema: DeviceTokenParamsSchema }) { deviceId, tokenId }: z.output<typeof DeviceTokenParamsSchema>) {
    return this.tokens.revoke(deviceId, tokenId);
  }
}
