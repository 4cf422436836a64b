/**
 * Groups items arriving one by one into batches: a batch is flushed when it is full, or when the
 * first item in it has waited `lingerMs`. Flushes run one at a time, so a slow database slows
 * intake instead of piling up concurrent writes; under load, items that arrived during a flush go
 * out right after it without waiting again.
 */
export class MicroBatcher<T> {
  private readonly queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly options: { readonly maxSize: number; readonly lingerMs: number },
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly onError: (error: unknown, items: T[]) => void,
  ) {}

  /** Items waiting or being written. */
  get size(): number {
    return this.queue.length;
  }

  add(item: T): void {
    this.queue.push(item);
    if (this.running) return;
    if (this.queue.length >= this.options.maxSize || this.options.lingerMs === 0) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.options.lingerMs);
  }

  /** Writes everything queued and waits for it (shutdown). */
  async drain(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      // An item added after the loop saw an empty queue but before it ended would wait forever.
      if (this.queue.length > 0) this.start();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxSize);
      try {
        await this.flush(batch);
      } catch (error) {
        this.onError(error, batch);
      }
    }
  }
}
