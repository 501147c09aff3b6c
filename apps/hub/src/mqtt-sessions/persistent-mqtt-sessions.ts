import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MqttSessionRepository, type UnacknowledgedCommand } from '@telehub/db';
import type { MqttSession, MqttSessionStore, SessionEnd, SessionOpenRequest, StoredSession } from '@telehub/mqtt';
import type { Logger } from 'pino';
import { flatRandomUuid } from '../common/flat-random-uuid.js';
import { NodeIdentity } from '../common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { BatchedLoader } from '../device-auth/batched-loader.js';
import { LOGGER } from '../logging/logger.token.js';
import { type CommandPublishTag, commandIdOf } from './command-publish-tag.js';

interface Holder {
  deviceId: string;
  connectionId: string;
}

/**
 * The MQTT library's session store, in PostgreSQL (`mqtt_sessions`): a session outlives hub restarts and moves
 * with its device to whichever hub it reconnects to. A device has one session, named by the client id that made
 * it; its unacknowledged publishes are commands, kept by command id (the command itself is in `commands`).
 */
@Injectable()
export class PersistentMqttSessions implements MqttSessionStore, OnModuleInit, OnModuleDestroy {
  private readonly holders = new WeakMap<MqttSession, Holder>();
  private readonly writing = new Set<Promise<unknown>>();
  /**
   * Most connections are clean and keep nothing, yet each must discard what its device may have kept: the discards
   * of one tick share a statement, so a burst of connects costs no more round trips than its presence updates.
   */
  private readonly discards = new BatchedLoader<string, never>(async (deviceIds) => {
    await this.sessions.discard(deviceIds);
    return new Map<string, never>();
  });

  constructor(
    private readonly sessions: MqttSessionRepository,
    private readonly identity: NodeIdentity,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Sessions held by hub processes that are gone (killed or crashed, this one's earlier run among them) start their
   * expiry; the expiry sweeper repeats this for processes lost later. Before any listener accepts (onModuleInit runs
   * before every onApplicationBootstrap), so no connection of this run is among them.
   */
  async onModuleInit(): Promise<void> {
    const released = await this.sessions.releaseOrphans();
    if (released > 0) this.logger.info({ sessions: released }, 'MQTT sessions held by lost hub processes released');
  }

  /** Shutdown: the ends of the sessions just closed are written before the database closes. */
  async onModuleDestroy(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing]);
  }

  async open(session: MqttSession, request: SessionOpenRequest): Promise<StoredSession | undefined> {
    const holder = { deviceId: request.deviceId, connectionId: flatRandomUuid() };
    this.holders.set(session, holder);
    try {
      if (request.cleanStart && request.expirySeconds === 0) {
        await this.track(this.discards.load(request.deviceId));
        return undefined;
      }
      const resumed = await this.track(
        this.sessions.open({ ...request, connectionId: holder.connectionId, instance: this.identity.instanceId }),
      );
      if (!resumed) return undefined;
      const subscriptions = Object.entries(resumed.subscriptions).map(([filter, qos]) => ({ filter, qos }));
      const unacknowledged = resumed.unacknowledged.map(({ packetId, commandId }) => ({
        packetId,
        tag: { commandId } satisfies CommandPublishTag,
      }));
      return { subscriptions, unacknowledged };
    } catch (error) {
      // A clean session that is not kept needs nothing from the database: a stale session stays until it expires.
      if (request.cleanStart && request.expirySeconds === 0) {
        this.logger.warn({ err: error, deviceId: request.deviceId }, 'could not discard an MQTT session');
        return undefined;
      }
      throw error;
    }
  }

  async saveSubscriptions(session: MqttSession, subscriptions: ReadonlyMap<string, 0 | 1>): Promise<void> {
    const holder = this.holders.get(session);
    if (!holder) return;
    const { deviceId, connectionId } = holder;
    await this.track(this.sessions.saveSubscriptions(deviceId, connectionId, Object.fromEntries(subscriptions)));
  }

  async close(session: MqttSession, end: SessionEnd): Promise<void> {
    const holder = this.holders.get(session);
    if (!holder) return;
    const unacknowledged: UnacknowledgedCommand[] = [];
    for (const { packetId, tag } of end.unacknowledged) {
      const commandId = commandIdOf(tag);
      if (commandId) unacknowledged.push({ packetId, commandId });
    }
    try {
      await this.track(this.sessions.close(holder.deviceId, holder.connectionId, end.expirySeconds, unacknowledged));
    } catch (error) {
      // Its commands stay `sent` in the table and go out again; only their packet ids are lost.
      this.logger.warn({ err: error, deviceId: holder.deviceId }, 'could not record the end of an MQTT session');
    }
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.writing.add(write);
    const forget = () => this.writing.delete(write);
    write.then(forget, forget);
    return write;
  }
}
