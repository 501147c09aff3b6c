import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CommandResultPayloadSchema, findUnstorableJson } from '@telehub/contracts';
import {
  type CommandDeviceEvent,
  type CommandNotice,
  type CommandRecord,
  CommandRepository,
  describeDataError,
  isDataError,
} from '@telehub/db';
import type { Logger } from 'pino';
import { KeyedSerialQueue } from '../common/keyed-serial-queue.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import type { DeviceConnection } from '../sessions/device-connection.js';
import { SessionTable } from '../sessions/session-table.js';
import { commandMessage } from './command.presenter.js';

/** Commands read per query while delivering to one device. */
const DELIVERY_PAGE = 100;

export type ReplyRefusal =
  | 'unknown_command'
  | 'not_your_command'
  | 'command_final'
  | 'invalid_result'
  | 'data_rejected';
export type ReplyOutcome =
  | { ok: true }
  | { ok: false; code: ReplyRefusal; message: string }
  /** Not recorded, through no fault of the reply: the device should send it again later. */
  | { ok: false; code: 'unavailable'; message: string };

/** Command ids are UUIDs; anything else is refused before it reaches the database (where it is a data error). */
const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Moves commands between the outbox table and the device connections of this hub process.
 *
 * Every status change, made by any hub process, arrives here through PostgreSQL NOTIFY: it is re-emitted on
 * the in-process event stream, and a new command for a device connected to this process is delivered at once.
 * A device that connects (or subscribes to its commands topic) gets what is waiting for it, oldest first.
 * Steps of one device run one after another (sent, then delivered, then the result), so they commit in order.
 */
@Injectable()
export class CommandDeliveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly perDevice = new KeyedSerialQueue();
  /** What each connection has already been sent: a new command must not resend the older ones to it. */
  private readonly sentOn = new WeakMap<DeviceConnection, Set<string>>();
  /** Devices with commands waiting for a free slot in their window. */
  private readonly windowFull = new Set<string>();
  private unlisten: (() => Promise<void>) | undefined;
  private listening = false;

  constructor(
    private readonly commands: CommandRepository,
    private readonly registry: SessionTable,
    private readonly hubEvents: HubEvents,
    private readonly recorder: DeviceEventRecorder,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unlisten = await this.commands.listen(
      (notice, event) => this.onNotice(notice, event),
      () => this.onListen(),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.unlisten?.().catch(() => undefined);
  }

  /** A device session can take commands now: send it what is waiting. */
  connectionReady(connection: DeviceConnection): void {
    this.deliver(connection.deviceId);
  }

  /** The device's transport acknowledged a command (MQTT PUBACK, WebSocket command_ack). */
  acknowledged(deviceId: string, commandId: string): Promise<ReplyOutcome> {
    if (!COMMAND_ID.test(commandId)) return Promise.resolve(this.refuse(deviceId, commandId, undefined, 'command_ack'));
    return this.storing(deviceId, commandId, async () => {
      const moved = await this.commands.transition([commandId], { to: 'delivered', from: ['sent'], deviceId });
      if (moved.length > 0) {
        // A window slot is free again (MQTT Receive Maximum): what did not fit goes out now.
        if (this.windowFull.delete(deviceId)) this.deliver(deviceId);
        return { ok: true };
      }
      const current = await this.commands.findById(commandId);
      // Acknowledging twice (a resent command) is harmless.
      if (current?.deviceId === deviceId && (current.status === 'delivered' || current.status === 'queued')) {
        return { ok: true };
      }
      return this.refuse(deviceId, commandId, current, 'command_ack');
    });
  }

  /** The device's answer: `payload` is the JSON it sent ({"status":"ok"|"error","result":…,"error":"…"}). */
  recordResult(deviceId: string, commandId: string, payload: unknown): Promise<ReplyOutcome> {
    if (!COMMAND_ID.test(commandId)) {
      return Promise.resolve(this.refuse(deviceId, commandId, undefined, 'command_result'));
    }
    // Checked before the schema: zod recurses, and nothing deeper than the limit or unstorable may go further.
    const unstorable = findUnstorableJson(payload, this.config.payloads.jsonMaxDepth);
    const parsed = unstorable ? undefined : CommandResultPayloadSchema.safeParse(payload);
    if (!parsed?.success) {
      const problems = unstorable
        ? `${unstorable.path || 'payload'}: ${unstorable.message}`
        : parsed!.error.issues.map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`).join('; ');
      const message = `a result is {"status":"ok"|"error","result":…,"error":"…"}: ${problems}`;
      this.recordRefusal(deviceId, commandId, 'invalid_result', message);
      return Promise.resolve({ ok: false, code: 'invalid_result', message });
    }
    const { status, result, error } = parsed.data;
    return this.storing(deviceId, commandId, async () => {
      const [moved] = await this.commands.transition([commandId], {
        to: status === 'ok' ? 'succeeded' : 'failed',
        from: ['queued', 'sent', 'delivered'],
        deviceId,
        result: result ?? null,
        error: status === 'error' ? (error ?? 'failed without an error message') : undefined,
      });
      if (moved) return { ok: true };
      return this.refuse(deviceId, commandId, await this.commands.findById(commandId), 'command_result');
    });
  }

  /**
   * Runs a device's reply step in its turn. A data error refuses the reply; any other failure means the database
   * is unavailable: the reply is not recorded and the device is told to send it again.
   */
  private storing(deviceId: string, commandId: string, step: () => Promise<ReplyOutcome>): Promise<ReplyOutcome> {
    return this.perDevice.run(deviceId, step).catch((error: unknown): ReplyOutcome => {
      if (isDataError(error)) {
        const message = describeDataError(error);
        this.recordRefusal(deviceId, commandId, 'data_rejected', message);
        return { ok: false, code: 'data_rejected', message };
      }
      this.logger.warn({ err: error, deviceId, commandId }, 'could not record a command reply');
      return { ok: false, code: 'unavailable', message: 'the hub could not record this reply; send it again later' };
    });
  }

  private onNotice(notice: CommandNotice, event: CommandDeviceEvent): void {
    this.metrics.commandTransitions.inc({ status: notice.status });
    this.hubEvents.emit({ type: 'command', ...notice });
    // The device_events row the transition wrote, as the notice carries it: its live copy.
    const { type: eventType, detail, at } = event;
    this.hubEvents.emit({ type: 'device_event', deviceId: notice.deviceId, eventType, detail, at, everyProcess: true });
    if (notice.status === 'queued') {
      this.deliver(notice.deviceId);
    } else if (notice.status !== 'sent') {
      // Acknowledged or finished: it will not be picked again, so the connection need not remember it.
      const connection = this.registry.get(notice.deviceId);
      if (connection) this.sentOn.get(connection)?.delete(notice.id);
    }
  }

  /** Notices sent while the listening connection was down are lost: look at the table for every local device. */
  private onListen(): void {
    if (!this.listening) {
      this.listening = true;
      return;
    }
    this.logger.info('command notifications reconnected: checking every connected device for waiting commands');
    for (const deviceId of this.registry.deviceIds()) this.deliver(deviceId);
  }

  private deliver(deviceId: string): void {
    if (!this.registry.get(deviceId)?.acceptsCommands) return;
    void this.perDevice.run(deviceId, () => this.deliverNow(deviceId));
  }

  /**
   * Claims the waiting commands (marking them `sent`), then writes them, so a fast PUBACK always finds the
   * command `sent`. If the connection drops after the claim, they stay `sent` and go out again on the next one.
   */
  private async deliverNow(deviceId: string): Promise<void> {
    try {
      for (;;) {
        const connection = this.registry.get(deviceId);
        if (!connection?.acceptsCommands) return;
        const room = Math.min(connection.commandCapacity, DELIVERY_PAGE);
        if (room <= 0) {
          // The device's window is full (MQTT Receive Maximum): the rest goes out as it acknowledges.
          this.windowFull.add(deviceId);
          return;
        }
        // Only while this session is the device's session on record: one another hub process took over claims nothing.
        const sessionId = this.registry.sessionIdOf(connection);
        const claimed = await this.commands.claimForDelivery(deviceId, [...this.sentTo(connection)], room, sessionId);
        if (this.registry.get(deviceId) !== connection) return;
        if (!this.write(connection, claimed)) {
          this.windowFull.add(deviceId);
          return;
        }
        if (claimed.length < room) return;
      }
    } catch (error) {
      this.logger.warn({ err: error, deviceId }, 'could not deliver commands; they stay queued');
    }
  }

  /** Writes in creation order; stops at the first that does not fit. True when all were written. */
  private write(connection: DeviceConnection, commands: CommandRecord[]): boolean {
    const sent = this.sentTo(connection);
    for (const command of commands) {
      // The claim counted this send: more than one means an earlier connection had it and did not acknowledge it.
      if (!connection.sendCommand(commandMessage(command), command.sendCount > 1)) return false;
      sent.add(command.id);
    }
    return true;
  }

  private sentTo(connection: DeviceConnection): Set<string> {
    let sent = this.sentOn.get(connection);
    if (!sent) {
      sent = new Set();
      this.sentOn.set(connection, sent);
    }
    return sent;
  }

  private refuse(
    deviceId: string,
    commandId: string,
    current: CommandRecord | undefined,
    frame: 'command_ack' | 'command_result',
  ): ReplyOutcome {
    const outcome: ReplyOutcome = !current
      ? { ok: false, code: 'unknown_command', message: `there is no command ${commandId}` }
      : current.deviceId !== deviceId
        ? { ok: false, code: 'not_your_command', message: `command ${commandId} is not for this device` }
        : { ok: false, code: 'command_final', message: `command ${commandId} is already ${current.status}` };
    this.recordRefusal(deviceId, commandId, outcome.code, `${frame}: ${outcome.message}`);
    return outcome;
  }

  private recordRefusal(deviceId: string, commandId: string, code: ReplyRefusal, message: string): void {
    this.recorder.record(deviceId, 'command_reply_refused', { commandId, code, message });
  }
}
