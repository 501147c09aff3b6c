import type { PresenceChange } from '@telehub/db';

export interface PresenceWriterHooks {
  /** The hub passes DevicePresenceRepository.applyPresence (and announces the sessions it displaced). */
  write(changes: PresenceChange[]): Promise<void>;
  onError(error: unknown, changes: number): void;
}

interface Pending {
  change: PresenceChange;
  settle: (() => void)[];
}

/**
 * Presence changes, written in batches: one statement (and one commit) for every change that arrived while
 * the previous statement ran. A burst of 1,000 connects costs a handful of commits, not 1,000; a lone connect
 * is written at once. Of several changes to one device in a batch, the latest wins.
 */
export class PresenceWriter {
  private pending = new Map<string, Pending>();
  private writing: Promise<void> | undefined;

  constructor(private readonly hooks: PresenceWriterHooks) {}

  /** Resolves once the change is written (or failed and was reported): presence never blocks a device. */
  apply(change: PresenceChange): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.pending.get(change.deviceId);
      this.pending.set(change.deviceId, { change, settle: [...(previous?.settle ?? []), resolve] });
      this.writing ??= this.writeAll();
    });
  }

  /** Resolves when everything applied so far is written. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    // Start on the next turn, so changes made in the same turn (a burst of handshakes) share the first batch.
    await Promise.resolve();
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.hooks.write(batch.map((item) => item.change));
      } catch (error) {
        this.hooks.onError(error, batch.length);
      }
      for (const item of batch) for (const settle of item.settle) settle();
    }
    this.writing = undefined;
  }
}
