import { Injectable } from '@nestjs/common';
import type { DeviceTokenInfo, IssuedDeviceToken, IssueTokenRequest } from '@telehub/contracts';
import { DeviceTokenRepository } from '@telehub/db';
import { generateToken } from '../auth/token-codec.js';
import { DeviceAccess } from '../cluster/device-access.js';
import { ApiError } from '../common/api-error.js';
import { presentToken } from './device.presenter.js';
import { DevicesService } from './devices.service.js';

@Injectable()
export class DeviceTokensService {
  constructor(
    private readonly tokens: DeviceTokenRepository,
    private readonly devices: DevicesService,
    private readonly access: DeviceAccess,
  ) {}

  /** Issues a new token; with `expireOthersInSeconds` the old ones keep working until then (rotation). */
  async issue(deviceId: string, request: IssueTokenRequest): Promise<IssuedDeviceToken> {
    await this.devices.assertExists(deviceId);
    const expiresAt = request.expiresAt ? new Date(request.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw ApiError.validation([{ field: 'expiresAt', message: 'must be in the future' }]);
    }
    const { token, hash, hint } = generateToken('device');
    const row = await this.tokens.create(deviceId, hash, hint, expiresAt);
    if (request.expireOthersInSeconds !== undefined) {
      await this.tokens.expireOthers(deviceId, row.id, new Date(Date.now() + request.expireOthersInSeconds * 1000));
      // Every hub process must see the old tokens' new expiry, not a cached credential without one.
      await this.access.changed(deviceId);
    }
    return { ...presentToken(row), token };
  }

  async list(deviceId: string): Promise<DeviceTokenInfo[]> {
    await this.devices.assertExists(deviceId);
    return (await this.tokens.listForDevice(deviceId)).map((row) => presentToken(row));
  }

  async revoke(deviceId: string, tokenId: string): Promise<DeviceTokenInfo> {
    await this.devices.assertExists(deviceId);
    const { outcome, row } = await this.tokens.revoke(deviceId, tokenId);
    if (outcome === 'not_found')
      throw ApiError.notFound('token_not_found', `device ${deviceId} has no token ${tokenId}`);
    if (outcome === 'already_revoked') {
      throw new ApiError(
        409,
        'token_already_revoked',
        'Conflict',
        `token ${tokenId} was revoked at ${row!.revokedAt!.toISOString()}`,
      );
    }
    // The session (on whichever hub process) may be using this token: end it; the device reconnects with another
    // valid token, if any.
    await this.access.changed(deviceId, 'token_revoked');
    return presentToken(row!);
  }
}
