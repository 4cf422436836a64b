/** How a {@link StatementBatcher} groups calls. */
export interface StatementBatcherOptions<I> {
  /** Most items in one statement (keeps parameter arrays and lock sets small). */
  readonly maxSize: number;
  /**
   * Items with the same key never share a statement (an `INSERT … ON CONFLICT DO UPDATE` cannot
   * touch one row twice); a later one waits for the next statement.
   */
  readonly keyOf?: (item: I) => string;
}

interface Pending<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Turns many concurrent one-row statements into few multi-row ones, without waiting: the first
 * call runs at once, alone; calls that arrive while a statement is running are sent together as
 * the next one. A lone caller pays no extra latency, while under load each statement (one round
 * trip, one commit) serves many callers. `run` gets a batch and answers one result per item, in
 * order; if it throws, every call of that batch rejects with the error.
 */
export class StatementBatcher<I, R> {
  private readonly queue: Array<Pending<I, R>> = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly options: StatementBatcherOptions<I>,
    private readonly run: (items: I[]) => Promise<R[]>,
  ) {}

  /** Calls waiting or running. */
  get size(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.running ??= this.loop();
    });
  }

  /** Resolves once every call submitted so far is done (shutdown). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          const results = await this.run(batch.map((pending) => pending.item));
          if (results.length !== batch.length) {
            throw new Error(
              `batched statement answered ${results.length} results for ${batch.length} items`,
            );
          }
          batch.forEach((pending, index) => pending.resolve(results[index] as R));
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  /** The next batch: queued items in order, skipping (and keeping) those whose key is taken. */
  private take(): Array<Pending<I, R>> {
    const keyOf = this.options.keyOf;
    if (!keyOf) return this.queue.splice(0, this.options.maxSize);
    const batch: Array<Pending<I, R>> = [];
    const keys = new Set<string>();
    let index = 0;
    while (index < this.queue.length && batch.length < this.options.maxSize) {
      const pending = this.queue[index] as Pending<I, R>;
      const key = keyOf(pending.item);
      if (keys.has(key)) {
        index += 1;
        continue;
      }
      keys.add(key);
      batch.push(pending);
      this.queue.splice(index, 1);
    }
    return batch;
  }
}
