import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  DeviceIdParamSchema,
  DeviceTokenInfoSchema,
  IssuedDeviceTokenSchema,
  IssueTokenRequestSchema,
  TokenIdParamSchema,
} from '@telehub/contracts';
import { z } from 'zod';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { openApiSchema } from '../openapi/zod-openapi.js';
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
  @ApiBody({ schema: openApiSchema(IssueTokenRequestSchema, 'input'), required: false })
  @ApiCreatedResponse({ schema: openApiSchema(IssuedDeviceTokenSchema) })
  @ProblemResponses(400, 401, 404)
  issue(
    @Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema, 'deviceId')) deviceId: string,
    @Body(new ZodValidationPipe(IssueTokenRequestSchema.default({}))) body: z.output<typeof IssueTokenRequestSchema>,
  ) {
    return this.tokens.issue(deviceId, body);
  }

  @Get()
  @RequiresRole('viewer')
  @ApiOperation({ summary: "List the device's tokens (hints only, never the secret)" })
  @ApiOkResponse({ schema: openApiSchema(z.array(DeviceTokenInfoSchema)) })
  @ProblemResponses(400, 401, 404)
  list(@Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema, 'deviceId')) deviceId: string) {
    return this.tokens.list(deviceId);
  }

  @Delete(':tokenId')
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Revoke one token; it stops working at once' })
  @ApiOkResponse({ schema: openApiSchema(DeviceTokenInfoSchema) })
  @ProblemResponses(400, 401, 404, 409)
  revoke(
    @Param('deviceId', new ZodValidationPipe(DeviceIdParamSchema, 'deviceId')) deviceId: string,
    @Param('tokenId', new ZodValidationPipe(TokenIdParamSchema, 'tokenId')) tokenId: string,
  ) {
    return this.tokens.revoke(deviceId, tokenId);
  }
}
