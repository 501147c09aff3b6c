import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CommandRepository, type LostDevice, NODE_LOST_REASON, NodeLeaseRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { NodeLeaseKeeper } from './node-lease.keeper.js';

/**
 * Declares hub processes lost whose lease lapsed (killed, frozen, cut off): every TELEHUB_NODE_LEASE_RENEW_MS it
 * removes lapsed leases, and with them marks their devices offline (reason `node_lost`), records a `disconnected`
 * event for each, and puts the commands those processes had sent but never saw acknowledged back in the queue, so
 * they reach the device wherever it reconnects. Several processes reap at once without reporting a loss twice.
 * On its first pass it also frees devices recorded online on no process at all (a lease row gone, or rows from
 * before processes had instance ids).
 */
@Injectable()
export class DeadNodeReaper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private reaping: Promise<void> | undefined;
  private orphansChecked = false;

  constructor(
    private readonly leases: NodeLeaseRepository,
    private readonly commands: CommandRepository,
    private readonly keeper: NodeLeaseKeeper,
    private readonly recorder: DeviceEventRecorder,
    private readonly hubEvents: HubEvents,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.reaping ??= this.reap().finally(() => {
        this.reaping = undefined;
      });
    }, this.config.cluster.leaseRenewMs).unref();
  }

  onModuleDestroy(): Promise<void> | undefined {
    clearInterval(this.timer);
    return this.reaping;
  }

  async reap(): Promise<void> {
    if (!this.keeper.mayJudgeOthers()) return;
    try {
      for (const node of await this.leases.reapExpired()) {
        this.logger.warn(
          { node: node.name, instance: node.instanceId, devices: node.devices.length },
          'hub process lost (its lease lapsed): its devices are offline',
        );
        this.recordLost(node.devices, node.name);
        const requeued = await this.commands.requeueUnacknowledged(
          node.devices.map((device) => device.deviceId),
          node.expiredAt,
        );
        if (requeued.length > 0) {
          this.logger.info({ node: node.name, commands: requeued.length }, 'unacknowledged commands queued again');
        }
      }
      if (!this.orphansChecked) {
        const orphans = await this.leases.reapOrphans();
        this.orphansChecked = true;
        if (orphans.length > 0) {
          this.logger.info({ devices: orphans.length }, 'devices recorded online on no live hub process: offline');
        }
        for (const orphan of orphans) this.recordLost([orphan], orphan.node);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for lost hub processes');
    }
  }

  private recordLost(devices: LostDevice[], node: string | null): void {
    const at = Date.now();
    for (const { deviceId, transport } of devices) {
      this.recorder.record(deviceId, 'disconnected', { transport, reason: NODE_LOST_REASON, node }, at);
      this.hubEvents.emit({
        type: 'presence',
        deviceId,
        online: false,
        transport: transport ?? 'unknown',
        reason: NODE_LOST_REASON,
        at,
      });
    }
  }
}
