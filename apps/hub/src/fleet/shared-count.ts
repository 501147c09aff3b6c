/**
 * A count that reads every device (seconds of CPU on a loaded machine at 100,000 devices), shared by its callers.
 * `fresh` waits for a count at most `maxAgeMs` old; `recent` answers at once with the last count while a new one
 * runs, so a request never waits for a full count while a recent one exists. Callers asking at the same moment
 * share one read either way.
 */
export class SharedCount<T> {
  private counting: Promise<T> | undefined;
  private counted: { at: number; value: T } | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly options: {
      /** A count younger than this is answered as it is, without counting again. */
      maxAgeMs: number;
      /** `recent` answers with a count up to this old (counting again behind it); older, it waits. */
      staleMs: number;
      now?: () => number;
    },
  ) {}

  /** A count begun at most `maxAgeMs` ago. */
  async fresh(): Promise<T> {
    const now = this.now();
    if (this.counted && now - this.counted.at < this.options.maxAgeMs) return this.counted.value;
    return this.count(now);
  }

  /**
   * The last count if it began at most `staleMs` ago (a new count starts behind it once it is `maxAgeMs` old),
   * else a fresh one: with callers every second or more often, a count is never more than `maxAgeMs` plus one
   * count's duration old.
   */
  async recent(): Promise<T> {
    const now = this.now();
    const last = this.counted;
    if (!last || now - last.at >= this.options.staleMs) return this.count(now);
    // A failed count behind the answer is retried by the next caller; the answer had no part in it.
    if (now - last.at >= this.options.maxAgeMs) this.count(now).catch(() => undefined);
    return last.value;
  }

  private count(startedAt: number): Promise<T> {
    this.counting ??= this.read()
      .then((value) => {
        // Dated when it began: what it counted is at least that old.
        if (!this.counted || startedAt >= this.counted.at) this.counted = { at: startedAt, value };
        return value;
      })
      .finally(() => {
        this.counting = undefined;
      });
    return this.counting;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
