// A one-line progress bar on a terminal, for the commands that can run long (replay, test-run --repeat).

const count = (v: number) => v.toLocaleString('en-US');

/** A progress bar on `stream`, redrawn at most ten times a second: the share done, the count so far, and the rate. */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    /** What is counted, in the plural ("packets", "runs"). */
    private readonly unit: string,
  ) {}

  /** A progress bar on stderr when it is a terminal and `wanted`; none otherwise. */
  static onTerminal(unit: string, wanted = true): ProgressBar | undefined {
    return wanted && process.stderr.isTTY ? new ProgressBar(process.stderr, unit) : undefined;
  }

  /** Redraws with `done` counted and `share` (0 to 1) of the work behind. */
  update(done: number, share: number): void {
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round(Math.min(1, share) * width);
    const rate = done / ((now - this.started) / 1000);
    this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${count(done)} ${this.unit}  ${count(Math.round(rate))}/s\x1b[K`);
  }

  /** Removes the bar, if it was drawn. */
  clear(): void {
    if (this.lastDraw) this.stream.write('\r\x1b[K');
  }
}
