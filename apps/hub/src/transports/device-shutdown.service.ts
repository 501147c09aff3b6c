import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { IngestService } from '../ingest/ingest.service.js';
import { LOGGER } from '../logging/logger.token.js';
import { SessionLifecycle } from '../sessions/session-lifecycle.js';
import { MqttListener } from './mqtt/mqtt.listener.js';
import { DeviceWsListener } from './ws/device-ws.listener.js';

/**
 * The graceful stop of device traffic, in the only order that loses nothing: stop accepting, stop reading,
 * commit what was read, let each session send its acknowledgements, then close sessions with "server shutting
 * down". create-hub runs it before the Nest app closes.
 */
@Injectable()
export class DeviceShutdown {
  constructor(
    private readonly mqtt: MqttListener,
    private readonly ws: DeviceWsListener,
    private readonly sessions: SessionLifecycle,
    private readonly ingest: IngestService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(): Promise<void> {
    await Promise.all([this.mqtt.stopAccepting(), this.ws.stopAccepting()]);
    const pending = this.ingest.pendingRows;
    // closeAll pauses every session, waits for their handled messages to be committed and acknowledged
    // (bounded by half the shutdown budget), then closes them.
    const closing = this.sessions.closeAll('server_shutdown', this.config.shutdownTimeoutMs / 2);
    await this.ingest.drain();
    const sessions = await closing;
    await this.ingest.close();
    this.logger.info({ sessions, rowsFlushed: pending }, 'device sessions closed, pending telemetry committed');
  }
}
