import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { NodeLeaseRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { NodeIdentity } from '../common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { SessionTable } from '../sessions/session-table.js';

/**
 * This process's lease (hub_nodes): taken before devices connect, renewed every TELEHUB_NODE_LEASE_RENEW_MS for
 * TELEHUB_NODE_LEASE_TTL_MS, given back at shutdown. While it holds, the other processes leave this one's devices
 * alone; once it lapses they declare it lost. A process that finds its lease gone (it was stalled or cut off for
 * longer than the lease, and declared lost) takes a new one and closes its sessions: their devices were recorded
 * offline, and reconnecting records them again.
 */
@Injectable()
export class NodeLeaseKeeper implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  /** Since when (epoch ms) every renewal succeeded; undefined while they fail. */
  private healthySince: number | undefined;

  constructor(
    private readonly leases: NodeLeaseRepository,
    private readonly identity: NodeIdentity,
    private readonly table: SessionTable,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const { name, instanceId } = this.identity;
    await this.leases.register(instanceId, name, this.config.cluster.leaseTtlMs);
    this.healthySince = Date.now();
    this.logger.info({ node: name, instance: instanceId }, 'hub process registered');
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => {
        this.renewing = undefined;
      });
    }, this.config.cluster.leaseRenewMs).unref();
  }

  /**
   * True once this process has held its lease without a failed renewal for a whole lease time. Only then may it
   * declare others lost: after an outage every lease has lapsed, and each process needs a lease time to renew
   * its own before anyone judges it.
   */
  mayJudgeOthers(now = Date.now()): boolean {
    return this.healthySince !== undefined && now - this.healthySince >= this.config.cluster.leaseTtlMs;
  }

  onModuleDestroy(): Promise<void> | undefined {
    clearInterval(this.timer);
    return this.renewing;
  }

  /** After the sessions closed and their presence was written: the lease ends, and any device left online too. */
  async beforeApplicationShutdown(): Promise<void> {
    try {
      const left = await this.leases.release(this.identity.instanceId, 'server_shutdown');
      if (left > 0) this.logger.info({ devices: left }, 'devices still recorded online here marked offline');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not release the lease; other hub processes will find it lapsed');
    }
  }

  private async renew(): Promise<void> {
    const { name, instanceId } = this.identity;
    const { leaseTtlMs } = this.config.cluster;
    try {
      if (await this.leases.renew(instanceId, leaseTtlMs)) {
        this.healthySince ??= Date.now();
        return;
      }
      this.healthySince = undefined;
      const sessions = this.table.connections();
      this.logger.error(
        { node: name, instance: instanceId, sessions: sessions.length },
        'this hub process was declared lost by another (its lease lapsed): closing its sessions and taking a new lease',
      );
      await this.leases.register(instanceId, name, leaseTtlMs);
      this.healthySince = Date.now();
      // Their devices were recorded offline (node_lost); reconnecting records them again, here or elsewhere.
      for (const connection of sessions) connection.close('server_overloaded');
    } catch (error) {
      if (this.healthySince !== undefined) this.logger.warn({ err: error }, 'could not renew the lease');
      this.healthySince = undefined;
    }
  }
}
