// Where writers put their bytes: a sink takes full chunks synchronously. The writers fill one
// buffer and hand it over when full, so writing allocates nothing per packet and memory stays flat.
import { CaptureUsageError } from './errors.js';

/** Takes a writer's bytes. `write` may not keep `bytes`: the writer reuses that memory once it returns. */
export interface CaptureSink {
  /** Takes the next bytes of the capture (copy them to keep them). */
  write(bytes: Uint8Array): void;
  /** Completes the capture (a file sink makes it visible under its name). */
  close(): void;
  /** Gives the capture up (a file sink removes what it wrote). */
  abort(): void;
}

/** Collects a capture in memory, for tests and browsers. */
export class MemorySink implements CaptureSink {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;
  /** 'open', 'closed' or 'aborted'. */
  state: 'open' | 'closed' | 'aborted' = 'open';

  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  close(): void {
    this.state = 'closed';
  }

  abort(): void {
    this.state = 'aborted';
    this.chunks.length = 0;
    this.length = 0;
  }

  /** Everything written so far, in one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** Default size of the chunks writers hand to their sink. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** A writer's output buffer: reserve room, fill it through `bytes`/`view`, hand full chunks to the sink. */
export class ChunkedOutput {
  bytes: Uint8Array;
  view: DataView;
  /** Bytes filled so far in `bytes`. */
  pos = 0;
  private open = true;

  constructor(
    private readonly sink: CaptureSink,
    private readonly chunkSize = DEFAULT_CHUNK_SIZE,
  ) {
    this.bytes = new Uint8Array(chunkSize);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `n` more bytes at `pos`, flushing first if they do not fit. */
  reserve(n: number): void {
    if (!this.open) throw new CaptureUsageError('write after close() or abort()');
    if (this.pos + n <= this.bytes.length) return;
    this.flush();
    if (n > this.bytes.length) {
      // A block larger than a chunk (a jumbo frame with a small chunk size): one larger buffer.
      this.bytes = new Uint8Array(n);
      this.view = new DataView(this.bytes.buffer);
    }
  }

  /** Copies `length` bytes of `data` to `at` and zeroes the bytes up to `paddedLength`. */
  copy(data: Uint8Array, length: number, at: number, paddedLength = length): void {
    const bytes = this.bytes;
    bytes.set(length === data.length ? data : data.subarray(0, length), at);
    // At most 3 bytes of padding: a loop costs less than a call to fill().
    for (let i = length; i < paddedLength; i++) bytes[at + i] = 0;
  }

  /** Hands the filled bytes to the sink. */
  flush(): void {
    if (this.pos === 0) return;
    this.sink.write(this.bytes.subarray(0, this.pos));
    this.pos = 0;
    if (this.bytes.length > this.chunkSize) {
      this.bytes = new Uint8Array(this.chunkSize);
      this.view = new DataView(this.bytes.buffer);
    }
  }

  /** Flushes and completes the sink. */
  close(): void {
    if (!this.open) return;
    this.flush();
    this.open = false;
    this.sink.close();
  }

  /** Drops what is buffered and gives the sink up. */
  abort(): void {
    if (!this.open) return;
    this.open = false;
    this.pos = 0;
    this.sink.abort();
  }
}
