import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { AdminServerMessage } from '@telehub/contracts';
import { DeviceRepository, type TelemetryBatch } from '@telehub/db';
import type { Logger } from 'pino';
import { ClusterBus } from '../cluster/cluster-bus.js';
import type { ClusterMessageOf, CrossingEvent } from '../cluster/cluster-message.js';
import { LOGGER } from '../logging/logger.token.js';
import { AdminFanoutService } from './admin-fanout.service.js';

/**
 * Hands what other hub processes send for this one's admin connections (AdminClusterForwarder) to the admin
 * channel, through the same paths as this process's own batches and events: a crossing batch is joined to each
 * subscription's snapshot by its transaction id exactly as a local one.
 */
@Injectable()
export class AdminClusterReceiver implements OnApplicationBootstrap {
  constructor(
    private readonly bus: ClusterBus,
    private readonly fanout: AdminFanoutService,
    private readonly devices: DeviceRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.bus.on('admin_points', (message) => this.onPoints(message));
    this.bus.on('admin_event', ({ event }) => void this.onEvent(event));
  }

  private onPoints({ xid, series }: ClusterMessageOf<'admin_points'>): void {
    const batch: TelemetryBatch = { times: [], deviceIds: [], metrics: [], values: [] };
    for (const { deviceId, metric, times, values, dropped } of series) {
      for (let index = 0; index < times.length; index += 1) {
        batch.times.push(times[index] as number);
        batch.deviceIds.push(deviceId);
        batch.metrics.push(metric);
        batch.values.push(values[index] as number);
      }
      if (dropped) this.fanout.deliverDropped(deviceId, metric, dropped, xid);
    }
    if (batch.times.length > 0) this.fanout.deliverTelemetry(batch, xid);
  }

  private async onEvent(event: CrossingEvent): Promise<void> {
    let message: AdminServerMessage;
    if (event.type === 'state' && event.state === undefined) {
      // Too large for a notice: the device's state as the table has it now (as new as the one announced, or newer).
      const device = await this.devices.findById(event.deviceId).catch((error: unknown) => {
        this.logger.warn(
          { err: error, deviceId: event.deviceId },
          'could not read a device state another hub announced',
        );
        return undefined;
      });
      if (!device) return;
      message = {
        type: 'state',
        deviceId: event.deviceId,
        state: device.reportedState,
        updatedAt: device.stateUpdatedAt?.getTime() ?? event.updatedAt,
      };
    } else {
      message = event as AdminServerMessage;
    }
    this.fanout.deliverEvent(event.deviceId, message);
  }
}
