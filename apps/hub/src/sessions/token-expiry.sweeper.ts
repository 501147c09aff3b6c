import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DeviceTokenRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { SessionTable } from './session-table.js';

/**
 * Ends live sessions whose device token expires while they are connected, as revocation does (MQTT 5 DISCONNECT
 * 0x87, WebSocket 4001 "token expired"), within TELEHUB_TOKEN_EXPIRY_CHECK_INTERVAL_MS of the expiry. Each hub
 * process sweeps its own sessions: one timer for the process, looking only at sessions whose token has an expiry,
 * instead of a timer per connection. A session keeps its token's expiry from authentication; when a token's
 * expiry changes (a rotation gives the old tokens one), `refresh` reads it again for the sessions here.
 */
@Injectable()
export class TokenExpirySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly table: SessionTable,
    private readonly tokens: DeviceTokenRepository,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.sweep(), this.config.devices.tokenExpiryCheckIntervalMs).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Closes every session here whose token has expired by `now`; answers how many. */
  sweep(now = Date.now()): number {
    const expired = this.table.expiredAt(now);
    for (const connection of expired) {
      // Forgotten at once, so a session slow to close is not closed again on the next sweep.
      this.table.setToken(connection, { ...this.table.tokenOf(connection)!, expiresAt: null });
      connection.close('token_expired');
    }
    if (expired.length > 0) this.logger.debug({ sessions: expired.length }, 'sessions closed: their token expired');
    return expired.length;
  }

  /**
   * Reads again the tokens of the live sessions here of `deviceIds` (all of them when omitted) after their
   * credentials changed: a new expiry is kept, and a session whose token was revoked or deleted meanwhile (a notice
   * of it was lost) ends.
   */
  async refresh(deviceIds?: readonly string[]): Promise<void> {
    const sessions = (deviceIds ?? this.table.deviceIds())
      .map((deviceId) => this.table.get(deviceId))
      .flatMap((connection) => {
        const token = connection && this.table.tokenOf(connection);
        return token ? [{ connection, token }] : [];
      });
    if (sessions.length === 0) return;
    try {
      const rows = await this.tokens.findValidity(sessions.map(({ token }) => token.tokenId));
      const validity = new Map(rows.map((row) => [row.tokenId, row]));
      for (const { connection, token } of sessions) {
        if (this.table.get(connection.deviceId) !== connection) continue;
        const row = validity.get(token.tokenId);
        if (!row) connection.close('not_authorized');
        else if (row.revokedAt) connection.close('token_revoked');
        else this.table.setToken(connection, { tokenId: token.tokenId, expiresAt: row.expiresAt?.getTime() ?? null });
      }
      this.sweep();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read again the tokens of live sessions; their expiry may be stale');
    }
  }
}
