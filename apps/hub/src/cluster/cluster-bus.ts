import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CLUSTER_PAYLOAD_MAX_BYTES, ClusterBusRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { NodeIdentity } from '../common/node-identity.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import {
  type ClusterMessage,
  type ClusterMessageKind,
  type ClusterMessageOf,
  packMessages,
  unpackPayload,
} from './cluster-message.js';

/** Messages kept for sending while the database is unreachable; older ones are dropped beyond this. */
const MAX_UNSENT = 10_000;
/** Wait before sending again after a failed send. */
const RETRY_MS = 500;
/**
 * How long a send waits for its own notices to come back on this process's listening connection (PostgreSQL
 * delivers a notice to every listener at once, in commit order): once they have, the other processes have been
 * handed them too. Bounded, so a dropped listening connection delays a send by this at most.
 */
const ECHO_WAIT_MS = 1_000;

type Handler = (message: ClusterMessage) => void;

interface Pending {
  message: ClusterMessage;
  /** Called once the notice carrying the message was sent, or given up. */
  settle: () => void;
}

/**
 * The bus between the hub processes on one database. Messages published in one turn of the event loop (and
 * while the previous send runs) go out together, packed into as few notices as fit, from the notifier's own
 * connection after whatever transaction caused them has committed. Received messages are handed to the handlers
 * of their kind; this process's own notices are ignored (it acted before publishing).
 */
@Injectable()
export class ClusterBus implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly handlers = new Map<ClusterMessageKind, Handler[]>();
  private readonly reconnectHandlers: (() => void)[] = [];
  private pending: Pending[] = [];
  private sending: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private listening = false;
  private stopped = false;
  /** Notices this process sent, and how many of them came back to its own listener. */
  private sentNotices = 0;
  private echoedNotices = 0;
  private echoWaiters: { until: number; resolve: () => void }[] = [];

  constructor(
    private readonly bus: ClusterBusRepository,
    private readonly identity: NodeIdentity,
    private readonly metrics: HubMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unlisten = await this.bus.listen(
      (payload) => this.receive(payload),
      () => this.onListen(),
    );
  }

  /** Sends what is pending once more (a failure is not retried now), then stops listening. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.flush();
    await this.unlisten?.().catch(() => undefined);
  }

  /**
   * Sends `message` to the other processes, batched with the others of this turn. Resolves once the notice is sent
   * and has come back to this process's own listener (so the other processes have been handed it: an API answer
   * that waits for this is not ahead of them), or was given up, or after ECHO_WAIT_MS; never rejects.
   */
  publish(message: ClusterMessage): Promise<void> {
    return new Promise((settle) => {
      if (this.pending.length >= MAX_UNSENT) {
        this.pending.shift()?.settle();
        this.logger.warn('cluster bus: too many unsent messages, dropped the oldest');
      }
      this.pending.push({ message, settle });
      this.sending ??= this.sendAll();
    });
  }

  /** Messages published and not yet being sent: more than none while a send (or its echo) takes long. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Resolves once everything published so far was sent (or given up at shutdown). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  on<K extends ClusterMessageKind>(kind: K, handler: (message: ClusterMessageOf<K>) => void): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(handler as Handler);
    this.handlers.set(kind, list);
  }

  /** `handler` runs when the listening connection came back after a drop: notices sent meanwhile were lost. */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  private async sendAll(): Promise<void> {
    // Start on the next turn, so messages published in the same turn share the first notice.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const messages = batch.map((entry) => entry.message);
      const { payloads, oversized } = packMessages(this.identity.instanceId, messages, CLUSTER_PAYLOAD_MAX_BYTES);
      if (oversized.length > 0) this.logger.error({ oversized }, 'cluster bus: messages too large to send');
      try {
        await this.bus.publish(payloads);
        this.sentNotices += payloads.length;
        for (const message of messages) {
          if (oversized.length === 0 || !oversized.includes(message)) {
            this.metrics.clusterMessagesSent.inc({ kind: message.kind });
          }
        }
        if (!this.stopped) await this.echoed(this.sentNotices);
      } catch (error) {
        if (!this.stopped) {
          this.logger.warn({ err: error, messages: batch.length }, 'cluster bus: could not send; retrying');
          this.pending = batch.filter((entry) => !oversized.includes(entry.message)).concat(this.pending);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
          continue;
        }
      }
      for (const entry of batch) entry.settle();
    }
    this.sending = undefined;
  }

  private receive(payload: string): void {
    const envelope = unpackPayload(payload);
    if (!envelope) {
      this.logger.warn({ bytes: payload.length }, 'cluster bus: ignored a notice that is not a cluster envelope');
      return;
    }
    if (envelope.from === this.identity.instanceId) {
      this.echoedNotices += 1;
      this.echoWaiters = this.echoWaiters.filter((waiter) => {
        if (this.echoedNotices < waiter.until) return true;
        waiter.resolve();
        return false;
      });
      return;
    }
    for (const message of envelope.messages) {
      for (const handler of this.handlers.get(message.kind) ?? []) {
        try {
          handler(message);
        } catch (error) {
          this.logger.error({ err: error, message }, 'cluster bus: a handler failed');
        }
      }
    }
  }

  /** Resolves once `count` of this process's notices came back to its listener, or after ECHO_WAIT_MS. */
  private echoed(count: number): Promise<void> {
    if (this.echoedNotices >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ECHO_WAIT_MS);
      timer.unref();
      this.echoWaiters.push({
        until: count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private onListen(): void {
    if (!this.listening) {
      this.listening = true;
      return;
    }
    // Notices sent while the listening connection was down never come back: stop counting them.
    this.echoedNotices = this.sentNotices;
    for (const waiter of this.echoWaiters) waiter.resolve();
    this.echoWaiters = [];
    this.logger.info('cluster bus reconnected: checking what notices may have been missed');
    for (const handler of this.reconnectHandlers) handler();
  }
}
