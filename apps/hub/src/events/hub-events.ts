import { EventEmitter } from 'node:events';
import type { AdminDeviceEventMessage, AdminPresenceMessage, AdminStateMessage } from '@telehub/contracts';
import type { CommandNotice, TelemetryBatch } from '@telehub/db';

/**
 * What the hub tells the rest of itself (admin channel, metrics) after the fact. Every event is plain
 * JSON-serializable data, so a later step can carry it between hub processes over PostgreSQL NOTIFY.
 */
export type HubEvent =
  /** One committed ingest batch, columnar as written (row i of each array is one sample): no object per row. */
  | {
      type: 'telemetry';
      batch: TelemetryBatch;
      committedAt: number;
      /** Device messages whose last rows are in this batch (for message rates); rows are `batch.times.length`. */
      messages?: number;
      /** The committing transaction's id (xid8, as text): tells whether a snapshot read includes this batch. */
      xid?: string;
    }
  /** Presence, state and device events have the admin channel's shapes (libs/contracts), which relays them. */
  | AdminPresenceMessage
  /**
   * A session was written online over a live one on record: session `sessionId`, held by the hub process
   * `instance` (this one or another), was taken over and must end.
   */
  | { type: 'session_displaced'; deviceId: string; sessionId: string; instance: string }
  | AdminStateMessage
  | (AdminDeviceEventMessage & {
      /** Emitted by every hub process (it came with a notice all of them hear), so never sent on to the others. */
      everyProcess?: boolean;
    })
  /** A command's status changed, in any hub process on this database (it arrives through NOTIFY). */
  | ({ type: 'command' } & CommandNotice);

export type HubEventType = HubEvent['type'];
export type HubEventOf<T extends HubEventType> = Extract<HubEvent, { type: T }>;

/** The in-process event stream. Listeners must be quick and must not throw; slow work belongs in a queue. */
export class HubEvents {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(event: HubEvent): void {
    this.emitter.emit(event.type, event);
  }

  on<T extends HubEventType>(type: T, listener: (event: HubEventOf<T>) => void): () => void {
    this.emitter.on(type, listener as (event: HubEvent) => void);
    return () => this.emitter.off(type, listener as (event: HubEvent) => void);
  }
}
