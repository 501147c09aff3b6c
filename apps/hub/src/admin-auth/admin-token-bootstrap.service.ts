import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { AdminTokenRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { generateToken, hashToken, tokenHint } from '../auth/token-codec.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';

/** Where the first admin token's banner may go: printed only when this is a terminal. */
export interface TerminalOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** The admin CLI as the Docker image runs it (and as `npm start` builds it: the same path under dist/). */
export const ADMIN_CLI = 'node dist/apps/hub/src/cli/admin.js';
const CREATE_TOKEN_LINE = `${ADMIN_CLI} token create --name <name> --role admin`;

/**
 * Makes sure an admin can sign in when the hub starts.
 * - TELEHUB_ADMIN_TOKEN set: it is the one environment token; tokens from an earlier value stop working.
 *   Unset: earlier environment tokens stop working too.
 * - Then, when no admin token works (the first start, or all were revoked or expired), one is made and
 *   written to a 0600 file in the data directory. Its secret is printed only to a terminal: stdout that is not
 *   one is usually a log (`docker compose logs`, a log shipper), which must never hold a credential. The log
 *   says where the file is and how to make another token with the CLI.
 */
@Injectable()
export class AdminTokenBootstrap {
  constructor(
    private readonly adminTokens: AdminTokenRepository,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ensureAdminToken(terminal: TerminalOutput = process.stdout): Promise<void> {
    const fromEnvironment = this.config.adminToken;
    const revoked = await this.adminTokens.syncEnvironmentToken(
      fromEnvironment ? { tokenHash: hashToken(fromEnvironment), hint: tokenHint(fromEnvironment) } : undefined,
    );
    if (revoked.length > 0) {
      this.logger.warn(
        { revoked },
        fromEnvironment
          ? 'TELEHUB_ADMIN_TOKEN changed: the admin token it held before is revoked'
          : 'TELEHUB_ADMIN_TOKEN is no longer set: the admin token it held is revoked',
      );
    }
    if (fromEnvironment) {
      this.logger.info('admin token from TELEHUB_ADMIN_TOKEN is registered');
      return;
    }
    const file = join(this.config.dataDir, 'admin-token');
    if ((await this.adminTokens.countActiveAdmins()) > 0) {
      if (existsSync(file)) this.logger.info({ file }, 'the first admin token is in this file, if you lost it');
      return;
    }
    const { token, hash, hint } = generateToken('admin');
    await this.adminTokens.create({
      name: 'initial',
      role: 'admin',
      source: 'bootstrap',
      tokenHash: hash,
      hint,
      expiresAt: null,
    });
    await mkdir(this.config.dataDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    if (terminal.isTTY) {
      // Printed, never logged: log collectors must not hold credentials.
      terminal.write(
        `\n  telehub admin token (shown once, also saved to ${file}):\n\n    ${token}\n\n` +
          `  Use it as:  Authorization: Bearer ${token.slice(0, 8)}…\n\n`,
      );
      this.logger.info({ file }, 'an admin token was made, printed to the terminal and saved to this file');
      return;
    }
    this.logger.info(
      { file, cli: CREATE_TOKEN_LINE },
      `an admin token was made and saved to ${file} (mode 0600). It is not printed: stdout is not a terminal. ` +
        `Read it from that file, or make another with: ${CREATE_TOKEN_LINE} ` +
        `(in Docker Compose: docker compose exec hub ${CREATE_TOKEN_LINE})`,
    );
  }
}
