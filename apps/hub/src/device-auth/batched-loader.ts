/**
 * Collects keys requested in the same tick and resolves them with one batched lookup, as DataLoader
 * does. A thousand devices connecting at once cost a few queries, not a thousand round trips.
 */
export class BatchedLoader<Key, Value> {
  private pending = new Map<Key, ((value: Value | undefined) => void)[]>();
  private rejecters = new Map<Key, ((error: unknown) => void)[]>();
  private scheduled = false;

  constructor(
    private readonly lookup: (keys: Key[]) => Promise<Map<Key, Value>>,
    private readonly maxBatch = 1000,
  ) {}

  load(key: Key): Promise<Value | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) {
        waiting.push(resolve);
        this.rejecters.get(key)!.push(reject);
      } else {
        this.pending.set(key, [resolve]);
        this.rejecters.set(key, [reject]);
      }
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    const rejecters = this.rejecters;
    this.pending = new Map();
    this.rejecters = new Map();
    const keys = [...pending.keys()];
    for (let start = 0; start < keys.length; start += this.maxBatch) {
      const slice = keys.slice(start, start + this.maxBatch);
      this.lookup(slice).then(
        (found) => {
          for (const key of slice) for (const resolve of pending.get(key)!) resolve(found.get(key));
        },
        (error: unknown) => {
          for (const key of slice) for (const reject of rejecters.get(key)!) reject(error);
        },
      );
    }
  }
}
