import type { CommandOutcome } from './device-client.js';

export type CommandSighting =
  | { kind: 'new' }
  /** Delivered again while the first delivery is still being handled. */
  | { kind: 'running' }
  /** Delivered again after it was handled: the hub may not have the result, so send it again. */
  | { kind: 'finished'; outcome: CommandOutcome };

/**
 * The ids of the commands a device has seen, with the outcome of the finished ones, so that a command delivered
 * more than once (delivery is at-least-once) runs once. Bounded by `capacity`: the oldest finished commands are
 * forgotten first, running ones only when nothing else is left.
 */
export class CommandDedupe {
  /** id → outcome, or null while running; a Map iterates in insertion order, oldest first. */
  private readonly seen = new Map<string, CommandOutcome | null>();

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.seen.size;
  }

  /** Looks the id up; a new id is recorded as running. */
  begin(id: string): CommandSighting {
    const known = this.seen.get(id);
    if (known === null) return { kind: 'running' };
    if (known !== undefined) return { kind: 'finished', outcome: known };
    this.seen.set(id, null);
    if (this.seen.size > this.capacity) this.evictOne();
    return { kind: 'new' };
  }

  finish(id: string, outcome: CommandOutcome): void {
    this.seen.set(id, outcome);
  }

  /** Forgets an id, so that a later delivery runs it (used when the first delivery could not be acknowledged). */
  forget(id: string): void {
    this.seen.delete(id);
  }

  private evictOne(): void {
    let oldest: string | undefined;
    for (const [id, outcome] of this.seen) {
      oldest ??= id;
      if (outcome !== null) {
        this.seen.delete(id);
        return;
      }
    }
    if (oldest !== undefined) this.seen.delete(oldest);
  }
}
