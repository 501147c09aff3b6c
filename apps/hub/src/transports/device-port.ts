import { Injectable } from '@nestjs/common';
import { CommandDeliveryService, type ReplyOutcome } from '../commands/command-delivery.service.js';
import { type AuthAttempt, type DeviceAuthResult, DeviceAuthService } from '../device-auth/device-auth.service.js';
import {
  type DevicePayload,
  type IngestOutcome,
  IngestService,
  type ReportStateOptions,
  type Unavailability,
} from '../ingest/ingest.service.js';
import type { PayloadResult } from '../ingest/telemetry-payload.js';
import { DeviceConnectRate } from '../sessions/device-connect-rate.js';
import type { CloseReason, DeviceConnection } from '../sessions/device-connection.js';
import { DevicePresence } from '../sessions/device-presence.js';
import { FlowControl } from '../sessions/flow-control.js';
import { SessionLifecycle } from '../sessions/session-lifecycle.js';
import { SessionTable, type SessionToken } from '../sessions/session-table.js';

/**
 * Everything a transport (MQTT, JSON WebSocket, HTTP) asks of the hub about its devices, in the order a
 * connection meets it: a place while the token is checked, the token, the connect rate, the session, each
 * message's flow control and ingest, the command replies. The listeners and the HTTP controller inject this one
 * port instead of the services behind it, and those services know no transport.
 */
@Injectable()
export class DevicePort {
  constructor(
    private readonly deviceAuth: DeviceAuthService,
    private readonly connectRate: DeviceConnectRate,
    private readonly table: SessionTable,
    private readonly lifecycle: SessionLifecycle,
    private readonly flow: FlowControl,
    private readonly ingest: IngestService,
    private readonly commands: CommandDeliveryService,
    presence: DevicePresence,
  ) {
    // Ingest and the sessions do not know each other: accepted telemetry marks its device seen, and ingest's
    // back-pressure pauses every session's reading.
    ingest.setListener({
      heard: (deviceId) => presence.markSeen(deviceId),
      pressure: (high) => flow.setPressure(high),
    });
  }

  /** See SessionTable.reserveHandshake: undefined when the hub is at TELEHUB_MAX_CONNECTIONS. */
  reserveHandshake(): (() => void) | undefined {
    return this.table.reserveHandshake();
  }

  /** The device token checked (a refusal is recorded, and counted against the address's failure budget). */
  authenticate(token: string | undefined, attempt: AuthAttempt): Promise<DeviceAuthResult> {
    return this.deviceAuth.authenticate(token, attempt);
  }

  /** A refusal found after the token was valid (an MQTT username naming another device). */
  recordAuthFailure(attempt: AuthAttempt, reason: string, deviceId: string | undefined): void {
    this.deviceAuth.recordFailure(attempt, reason, deviceId);
  }

  /** 0 when the device may connect now (the connection is counted), else milliseconds until it may. */
  admitConnect(deviceId: string, transport: string): number {
    return this.connectRate.admit(deviceId, transport);
  }

  /**
   * An authenticated device's session: current at once (a previous one is taken over), then recorded online. It
   * ends when `token`, what it authenticated with, expires.
   */
  openSession(connection: DeviceConnection, token: SessionToken): Promise<void> {
    return this.lifecycle.open(connection, token);
  }

  closeSession(connection: DeviceConnection, reason: CloseReason | string): void {
    this.lifecycle.closed(connection, reason);
  }

  /** Before each message a session reads: undefined to go on at once, or a promise that resolves when it may. */
  admit(connection: DeviceConnection): Promise<void> | undefined {
    return this.flow.admit(connection);
  }

  /** Why HTTP should refuse a message now (database unavailable, backlog full); undefined when it is welcome. */
  unavailability(): Unavailability | undefined {
    return this.ingest.unavailability();
  }

  ingestTelemetry(
    deviceId: string,
    transport: string,
    payload: DevicePayload,
    receivedAt?: number,
  ): Promise<IngestOutcome> {
    return this.ingest.ingestTelemetry(deviceId, transport, payload, receivedAt);
  }

  reportState(
    deviceId: string,
    transport: string,
    payload: DevicePayload,
    options?: ReportStateOptions,
  ): Promise<IngestOutcome> {
    return this.ingest.reportState(deviceId, transport, payload, options);
  }

  /** Whether `payload` would be accepted as a state report, without applying it (an MQTT will, at CONNECT). */
  checkState(payload: DevicePayload): PayloadResult<Record<string, unknown>> {
    return this.ingest.checkState(payload);
  }

  /** A message refused before it reached ingest (wrong topic, too large, not a frame): counted and recorded. */
  recordRejected(
    deviceId: string | null,
    transport: string,
    code: string,
    message: string,
    detail?: Record<string, unknown>,
  ): void {
    this.ingest.recordRejected(deviceId, transport, code, message, detail);
  }

  /** The session can take commands now (MQTT: subscribed to its commands topic; WebSocket: open). */
  commandsReady(connection: DeviceConnection): void {
    this.commands.connectionReady(connection);
  }

  /** The device's transport acknowledged a command (MQTT PUBACK, WebSocket command_ack). */
  commandAcknowledged(deviceId: string, commandId: string): Promise<ReplyOutcome> {
    return this.commands.acknowledged(deviceId, commandId);
  }

  commandResult(deviceId: string, commandId: string, payload: unknown): Promise<ReplyOutcome> {
    return this.commands.recordResult(deviceId, commandId, payload);
  }
}
