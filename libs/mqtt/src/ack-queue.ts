interface QueuedAck {
  settled: boolean;
  release: () => void;
}

/**
 * Releases acknowledgements in the order their packets arrived, whatever order their promises settle in.
 * PUBACKs and PUBRECs must follow the order of the PUBLISH packets [MQTT-4.6.0-2] [MQTT-4.6.0-3], yet one
 * session may have many onPublish calls in flight so that they can share a batch commit. Each entry waits for
 * its own promise and for every entry ahead of it.
 */
export class AckQueue {
  private readonly entries: QueuedAck[] = [];
  private unsettledCount = 0;
  private emptyWaiters: Array<() => void> = [];

  constructor(private readonly afterRelease: () => void) {}

  /** Entries whose promise has not settled yet: the session's in-flight onPublish calls. */
  get unsettled(): number {
    return this.unsettledCount;
  }

  /** Queues an acknowledgement that waits for `result`; `onValue`/`onError` run when its turn comes. */
  track<T>(result: Promise<T>, onValue: (value: T) => void, onError: (error: unknown) => void): void {
    const entry: QueuedAck = { settled: false, release: noop };
    this.entries.push(entry);
    this.unsettledCount += 1;
    result.then(
      (value) => this.settle(entry, () => onValue(value)),
      (error: unknown) => this.settle(entry, () => onError(error)),
    );
  }

  /** Queues an acknowledgement that is ready now but must not overtake the ones ahead of it. */
  push(release: () => void): void {
    this.entries.push({ settled: true, release });
    this.flush();
  }

  /** Resolves once every queued acknowledgement has been released. */
  whenEmpty(): Promise<void> {
    if (this.entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  private settle(entry: QueuedAck, release: () => void): void {
    entry.settled = true;
    entry.release = release;
    this.unsettledCount -= 1;
    this.flush();
  }

  private flush(): void {
    let released = false;
    while (this.entries.length > 0 && this.entries[0]!.settled) {
      const entry = this.entries.shift()!;
      released = true;
      entry.release();
    }
    if (this.entries.length === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (released) this.afterRelease();
  }
}

function noop(): void {}
