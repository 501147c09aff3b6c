import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { AdminTokenRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { generateToken, hashToken, tokenHint } from '../auth/token-codec.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';

// lastUsedAt is informational; writing it at most once a minute per token keeps admin requests read-only.
const TOUCH_INTERVAL_MS = 60_000;

@Injectable()
export class AdminTokenService {
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly adminTokens: AdminTokenRepository,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Makes sure an admin can sign in. A token from TELEHUB_ADMIN_TOKEN is registered (by hash). Otherwise, on
   * the first start, one is created, printed once to the terminal and written to a 0600 file in the data
   * directory; later starts only say where that file is.
   */
  async ensureAdminToken(print: (text: string) => void = (text) => process.stdout.write(text)): Promise<void> {
    if (this.config.adminToken) {
      await this.adminTokens.ensure(
        'environment',
        hashToken(this.config.adminToken),
        tokenHint(this.config.adminToken),
      );
      this.logger.info('admin token from TELEHUB_ADMIN_TOKEN is registered');
      return;
    }
    const file = join(this.config.dataDir, 'admin-token');
    if ((await this.adminTokens.countActive()) > 0) {
      this.logger.info({ file }, 'admin token was created on first start (see the file if you lost it)');
      return;
    }
    const { token, hash, hint } = generateToken('admin');
    await this.adminTokens.create('initial', hash, hint);
    await mkdir(this.config.dataDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    // Printed, never logged: log collectors must not hold credentials.
    print(
      `\n  telehub admin token (shown once, also saved to ${file}):\n\n    ${token}\n\n` +
        `  Use it as:  Authorization: Bearer ${token.slice(0, 8)}…\n\n`,
    );
  }

  async verify(token: string): Promise<boolean> {
    const row = await this.adminTokens.findActiveByHash(hashToken(token));
    if (!row) return false;
    const now = Date.now();
    if (now - (this.lastTouched.get(row.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.lastTouched.set(row.id, now);
      await this.adminTokens.touchLastUsed(row.id);
    }
    return true;
  }
}
