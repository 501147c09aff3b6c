import { Injectable } from '@nestjs/common';
import { DeviceAuthService } from '../device-auth/device-auth.service.js';
import { SessionTable } from '../sessions/session-table.js';
import { TokenExpirySweeper } from '../sessions/token-expiry.sweeper.js';
import { ClusterBus } from './cluster-bus.js';
import type { DeviceAccessClose } from './cluster-message.js';

/**
 * A device's credentials changed (token revoked, rotated, device disabled or deleted): every hub process forgets
 * what it cached for the device and, when the change takes its access away, ends its live session, so the
 * change holds everywhere within a notice's delay and not after TELEHUB_AUTH_CACHE_TTL_MS. A rotation gives the
 * old tokens an expiry: a live session using one learns it and ends then (TokenExpirySweeper).
 */
@Injectable()
export class DeviceAccess {
  constructor(
    private readonly deviceAuth: DeviceAuthService,
    private readonly table: SessionTable,
    private readonly bus: ClusterBus,
    private readonly tokenExpiry: TokenExpirySweeper,
  ) {
    bus.on('device_access_changed', ({ deviceId, close }) => this.apply(deviceId, close));
    // Notices missed while the bus was down: nothing cached can be trusted, nor the live sessions' token expiries.
    bus.onReconnect(() => {
      this.deviceAuth.invalidateAll();
      void this.tokenExpiry.refresh();
    });
  }

  /**
   * Call after the change committed: here at once, on the other processes through the bus. Resolves once the
   * notice is sent, so an API answer that waits for it is not ahead of the other processes.
   */
  changed(deviceId: string, close?: DeviceAccessClose): Promise<void> {
    this.apply(deviceId, close);
    return this.bus.publish({ kind: 'device_access_changed', deviceId, ...(close ? { close } : {}) });
  }

  private apply(deviceId: string, close: DeviceAccessClose | undefined): void {
    this.deviceAuth.invalidateDevice(deviceId);
    if (close) this.table.revoke(deviceId, close);
    // A token given an expiry (rotation): the live session here, if it uses one of them, ends then.
    else if (this.table.get(deviceId)) void this.tokenExpiry.refresh([deviceId]);
  }
}
