import { Injectable } from '@nestjs/common';
import type { AdminRole, AdminTokenInfo, IssuedAdminToken } from '@telehub/contracts';
import { AdminTokenRepository, type AdminTokenRow } from '@telehub/db';
import { generateToken } from '../auth/token-codec.js';
import { ApiError } from '../common/api-error.js';
import { presentAdminToken } from './admin-token.presenter.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewAdminTokenRequest {
  name: string;
  role: AdminRole;
  expiresAt: Date | null;
}

/**
 * Managing admin tokens, for the REST API and the CLI alike (the CLI builds this service on a repository of
 * its own, without Nest). Refusals are ApiErrors with stable codes; both front ends show their detail.
 */
@Injectable()
export class AdminTokensService {
  constructor(private readonly tokens: AdminTokenRepository) {}

  /** Makes a token; its secret is in the answer, this once (only its hash is stored). */
  async create(request: NewAdminTokenRequest, source: 'api' | 'cli'): Promise<IssuedAdminToken> {
    // Names tell tokens apart in lists and let the CLI revoke by name, so two working tokens never share one.
    if ((await this.tokens.findActiveByName(request.name)).length > 0) {
      throw new ApiError(
        409,
        'admin_token_name_taken',
        'Conflict',
        `an admin token named "${request.name}" already works: choose another name, or revoke that one first`,
      );
    }
    const { token, hash, hint } = generateToken('admin');
    const row = await this.tokens.create({ ...request, source, tokenHash: hash, hint });
    return { ...presentAdminToken(row), token };
  }

  async list(): Promise<AdminTokenInfo[]> {
    const now = Date.now();
    return (await this.tokens.list()).map((row) => presentAdminToken(row, now));
  }

  /**
   * Revokes a token: it stops working at once for the REST API, and every hub closes the admin WebSocket
   * connections signed in with it (NOTIFY). Two are refused: the token from TELEHUB_ADMIN_TOKEN (the
   * environment would bring it back at the next start; change the variable instead), and the last admin
   * token that works (nobody could manage tokens afterwards; make another admin token first).
   */
  async revoke(id: string): Promise<AdminTokenInfo> {
    const existing = await this.tokens.findById(id);
    if (!existing) throw ApiError.notFound('admin_token_not_found', `there is no admin token ${id}`);
    if (existing.source === 'environment' && !existing.revokedAt) {
      throw new ApiError(
        409,
        'admin_token_from_environment',
        'Conflict',
        'this admin token comes from TELEHUB_ADMIN_TOKEN: change or unset the variable and restart the hub; the old value then stops working',
      );
    }
    const result = await this.tokens.revoke(id, { keepAnAdmin: true });
    switch (result.outcome) {
      case 'not_found':
        throw ApiError.notFound('admin_token_not_found', `there is no admin token ${id}`);
      case 'already_revoked':
        throw new ApiError(
          409,
          'admin_token_already_revoked',
          'Conflict',
          `admin token ${id} was revoked at ${result.row.revokedAt!.toISOString()}`,
        );
      case 'last_admin':
        throw new ApiError(
          409,
          'last_admin_token',
          'Conflict',
          `"${result.row.name}" is the last admin token that works; without it nobody could manage admin tokens. Make another admin token first`,
        );
      case 'revoked':
        return presentAdminToken(result.row);
    }
  }

  /** The CLI names a token by id or by name; a name must name exactly one working token. */
  async find(idOrName: string): Promise<AdminTokenRow> {
    if (UUID.test(idOrName)) {
      const row = await this.tokens.findById(idOrName.toLowerCase());
      if (row) return row;
    }
    const named = await this.tokens.findActiveByName(idOrName);
    if (named.length === 1) return named[0]!;
    if (named.length > 1) {
      throw new ApiError(
        409,
        'admin_token_name_ambiguous',
        'Conflict',
        `${named.length} working admin tokens are named "${idOrName}": name one by id (${named.map((row) => row.id).join(', ')})`,
      );
    }
    throw ApiError.notFound('admin_token_not_found', `no working admin token has the id or name "${idOrName}"`);
  }
}
