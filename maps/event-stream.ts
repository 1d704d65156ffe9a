// Records that programs output and JS consumes (ring buffers, perf event arrays): an async
// iteration that yields what the map's drain delivers, waits for more, and ends after close().

/** The waiting side of a map whose records JS drains. */
export class EventStream<T> {
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly drain: (deliver: (record: T) => void) => number) {}

  /** Wakes iterations waiting for records (the map calls it when a program outputs one). */
  wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Ends every iteration once the records already output are read. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Records as they are output, until close(). */
  async *iterate(): AsyncIterableIterator<T> {
    for (;;) {
      const batch: T[] = [];
      this.drain((record) => batch.push(record));
      yield* batch;
      if (batch.length > 0) continue;
      if (this.closed) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
