/** Runs one batch of items that share a key; returns one result per item, in order. */
export type BatchRunner<K, T, R> = (key: K, items: T[]) => Promise<R[]>;

interface Waiter<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces calls made in the same event-loop turn into one batch per key (at most `maxBatch`
 * items each), so concurrent callers share a script call and a round trip instead of one each.
 */
export class TickBatcher<K, T, R> {
  private pending = new Map<K, Waiter<T, R>[]>();
  private scheduled = false;

  constructor(
    private readonly run: BatchRunner<K, T, R>,
    private readonly maxBatch: number,
  ) {}

  /** Adds an item to this turn's batch of `key`; resolves with its own result. */
  add(key: K, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let list = this.pending.get(key);
      if (!list) this.pending.set(key, (list = []));
      list.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, waiters] of batches) {
      for (let i = 0; i < waiters.length; i += this.maxBatch) {
        const chunk = waiters.slice(i, i + this.maxBatch);
        this.run(
          key,
          chunk.map((w) => w.item),
        ).then(
          (results) => chunk.forEach((w, j) => w.resolve(results[j] as R)),
          (err: unknown) => {
            for (const w of chunk) w.reject(err);
          },
        );
      }
    }
  }
}
