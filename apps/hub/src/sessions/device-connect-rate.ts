import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { KeyedTokenBuckets } from './keyed-token-buckets.js';

/**
 * Connections per device, on every transport: a device reconnecting in a tight loop (a crash loop, a script
 * that connects per message far too fast) takes over its own session, writes presence and events each time.
 * EMQX calls this flapping. Keyed by the authenticated device rather than the MQTT client id: the client id is
 * the client's choice (an empty one gets a fresh id each time), and a limit on an unauthenticated id would let
 * anyone lock a device out by using its id.
 */
@Injectable()
export class DeviceConnectRate {
  private readonly buckets: KeyedTokenBuckets<string>;
  /** Devices refused since their last accepted connection: one device event per episode, not per attempt. */
  private readonly refusing = new Set<string>();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly metrics: HubMetrics,
    private readonly recorder: DeviceEventRecorder,
  ) {
    this.buckets = new KeyedTokenBuckets(config.devices.connectRatePerSec, config.devices.connectBurst);
  }

  /** 0 when the device may connect now (the connection is counted), else milliseconds until it may. */
  admit(deviceId: string, transport: string): number {
    const waitMs = this.buckets.take(deviceId);
    if (waitMs === 0) {
      this.refusing.delete(deviceId);
      return 0;
    }
    this.metrics.connectRateLimited.inc({ transport });
    if (!this.refusing.has(deviceId)) {
      this.refusing.add(deviceId);
      this.recorder.record(deviceId, 'connect_rate_limited', {
        transport,
        ratePerSec: this.config.devices.connectRatePerSec,
      });
    }
    return waitMs;
  }
}

export const CONNECT_RATE_DETAIL =
  'this device connects too often (TELEHUB_DEVICE_CONNECT_BURST, TELEHUB_DEVICE_CONNECT_RATE_PER_SEC)';
