import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type AdminIdentity as AdminIdentityBody,
  AdminIdentitySchema,
  type AdminTokenInfo,
  AdminTokenInfoSchema,
  AdminTokenParamsSchema,
  CreateAdminTokenRequestSchema,
  type IssuedAdminToken,
  IssuedAdminTokenSchema,
} from '@telehub/contracts';
import { z } from 'zod';
import { type AdminIdentity, CurrentAdmin } from '../admin-auth/admin-identity.js';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { ApiError } from '../common/api-error.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { presentIdentity } from './admin-token.presenter.js';
import { resolveExpiry } from './admin-token-expiry.js';
import { AdminTokensService } from './admin-tokens.service.js';

@ApiTags('admin tokens')
@ApiBearerAuth()
@Controller('api/v1/admin-tokens')
export class AdminTokensController {
  constructor(private readonly tokens: AdminTokensService) {}

  @Post()
  @RequiresRole('admin')
  @ApiOperation({
    summary: 'Make an admin token with a role and an optional expiry; its secret is in the answer, this once',
    description:
      'Roles: `viewer` reads everything; `operator` also sends and cancels commands; `admin` also provisions devices and manages admin tokens.',
  })
  @ApiCreatedResponse({ standardSchema: IssuedAdminTokenSchema })
  @ProblemResponses(400, 401, [409, '`admin_token_name_taken`: a working admin token has this name'])
  create(
    @Body({ schema: CreateAdminTokenRequestSchema }) body: z.output<typeof CreateAdminTokenRequestSchema>,
  ): Promise<IssuedAdminToken> {
    const expiry = resolveExpiry(body);
    if (!expiry.ok) {
      const field = body.expiresInSeconds !== undefined ? 'expiresInSeconds' : 'expiresAt';
      throw ApiError.validation([{ field, message: expiry.message }]);
    }
    return this.tokens.create({ name: body.name, role: body.role, expiresAt: expiry.expiresAt }, 'api');
  }

  @Get()
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Every admin token (hints only, never the secret), revoked and expired ones too' })
  @ApiOkResponse({ standardSchema: z.array(AdminTokenInfoSchema) })
  @ProblemResponses(401)
  list(): Promise<AdminTokenInfo[]> {
    return this.tokens.list();
  }

  @Get('me')
  @RequiresRole('viewer')
  @ApiOperation({ summary: 'Who am I: the name, role and expiry of the admin token of this request' })
  @ApiOkResponse({ standardSchema: AdminIdentitySchema })
  @ProblemResponses(401)
  me(@CurrentAdmin() identity: AdminIdentity): AdminIdentityBody {
    return presentIdentity(identity);
  }

  @Delete(':tokenId')
  @RequiresRole('admin')
  @ApiOperation({
    summary: 'Revoke an admin token: it stops working at once, and its admin WebSocket connections are closed',
    description:
      'Refused with 409 for the token from TELEHUB_ADMIN_TOKEN (`admin_token_from_environment`: change the variable instead) and for the last admin token that works (`last_admin_token`: make another first).',
  })
  @ApiOkResponse({ standardSchema: AdminTokenInfoSchema })
  @ProblemResponses(400, 401, 404, [
    409,
    'Already revoked (`admin_token_already_revoked`), from TELEHUB_ADMIN_TOKEN (`admin_token_from_environment`), or the last admin token (`last_admin_token`)',
  ])
  revoke(
    @Param({ schema: AdminTokenParamsSchema }) { tokenId }: z.output<typeof AdminTokenParamsSchema>,
  ): Promise<AdminTokenInfo> {
    return this.tokens.revoke(tokenId);
  }
}
