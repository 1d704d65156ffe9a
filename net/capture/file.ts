// The Node edge of capture I/O: reading a capture file in large chunks as batches of records, and
// a file sink that makes a capture visible only once it is complete. Everything else in
// net/capture works on bytes and runs in browsers too.
import { closeSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CaptureReadOptions } from './decoder.js';
import { CaptureFileError } from './errors.js';
import { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
import { PcapngWriter, type PcapngWriterOptions } from './pcapng-writer.js';
import { CaptureReader, type RecordsAhead } from './reader.js';
import type { CaptureRecord } from './record.js';
import type { CaptureSink } from './sink.js';
import type { CaptureWriter } from './writer.js';

/** Options of `readCaptureFile`. */
export interface CaptureFileReadOptions extends CaptureReadOptions {
  /** Bytes per read; default 1 MiB. */
  readonly chunkSize?: number;
}

/**
 * A capture file read record by record, synchronously, in chunks (default 1 MiB) that alternate
 * between two buffers: a record stays valid until the chunk after the next one is read, so records
 * of one chunk outlive the reading of the next. Memory stays flat whatever the file's size. A
 * corrupt or truncated file gives every record before the bad one, then throws its `CaptureError`;
 * errors name the file as `options.name`, by default `path`. `close()` releases the file (at the
 * end, after an error, or to stop early).
 *
 * Reads are synchronous: reads handed to libuv's thread pool (fs/promises) overlapped with
 * processing in theory, but on a busy 2-core machine each one waited for a core, and a replay spent
 * a quarter of its time idle, awaiting 1 MiB reads that take ~0.2 ms of copying.
 */
export class CaptureFileCursor {
  private readonly reader: CaptureReader;
  private fd: number | undefined;
  private current: Uint8Array;
  private other: Uint8Array;
  private ended = false;
  /** Bytes read from the file so far. */
  bytesRead = 0;

  constructor(readonly path: string, options: CaptureFileReadOptions = {}) {
    const chunkSize = options.chunkSize ?? 1 << 20;
    this.reader = new CaptureReader({ ...options, name: options.name ?? path });
    try {
      this.fd = openSync(path, 'r');
    } catch (error) {
      throw new CaptureFileError(path, error);
    }
    this.current = new Uint8Array(chunkSize);
    this.other = new Uint8Array(chunkSize);
  }

  /** The next record, reading chunks as needed; undefined at the end of the file. */
  next(): CaptureRecord | undefined {
    for (;;) {
      const record = this.reader.next();
      if (record !== undefined) return record;
      if (!this.readChunk()) return undefined;
    }
  }

  /** The next record of the chunks read so far; undefined when they hold no more (then `readChunk`). */
  nextInChunk(): CaptureRecord | undefined {
    return this.reader.next();
  }

  /** The undecoded records ahead in the chunk read last (see CaptureReader.recordsAhead). */
  recordsAhead(): RecordsAhead | undefined {
    return this.reader.recordsAhead();
  }

  /** Offset in the file past the bytes decoded so far (see CaptureReader.position). */
  get position(): number {
    return this.reader.position;
  }

  /** Moves past records the caller of recordsAhead decoded itself (see CaptureReader.skip). */
  skip(bytes: number, records: number): void {
    this.reader.skip(bytes, records);
  }

  /**
   * Reads the next chunk; false at the end of the file, once the reader has checked that the file
   * does not stop inside a record (it throws if it does).
   */
  readChunk(): boolean {
    if (this.ended) return false;
    if (this.fd === undefined) throw new CaptureFileError(this.path, new Error('the capture was closed'));
    const into = this.other;
    let bytesRead: number;
    try {
      bytesRead = readSync(this.fd, into, 0, into.length, null);
    } catch (error) {
      throw new CaptureFileError(this.path, error);
    }
    if (bytesRead === 0) {
      this.ended = true;
      this.reader.end();
      return false;
    }
    this.bytesRead += bytesRead;
    this.reader.push(into.subarray(0, bytesRead));
    this.other = this.current;
    this.current = into;
    return true;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The records of a capture file, in batches (one per chunk read), so that there is no `await` per
 * packet: `CaptureFileCursor`'s records as arrays. A batch's records are valid until the batch
 * after the next one is asked for. A corrupt or truncated file yields every record before the bad
 * one, then throws its `CaptureError`.
 */
export async function* readCaptureFile(path: string, options: CaptureFileReadOptions = {}): AsyncGenerator<CaptureRecord[], void, undefined> {
  const cursor = new CaptureFileCursor(path, options);
  try {
    while (cursor.readChunk()) {
      const batch: CaptureRecord[] = [];
      let failure: unknown;
      try {
        for (let record = cursor.nextInChunk(); record !== undefined; record = cursor.nextInChunk()) batch.push(record);
      } catch (error) {
        failure = error;
      }
      if (batch.length > 0) yield batch;
      if (failure !== undefined) throw failure;
    }
  } finally {
    cursor.close();
  }
}

/**
 * A sink writing to a temporary file next to `path` (same directory, so the rename is atomic),
 * renamed to `path` on `close()` and removed on `abort()`: a capture is never seen half-written.
 */
export class AtomicFileSink implements CaptureSink {
  /** The temporary file's path while the capture is being written. */
  readonly tempPath: string;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    try {
      this.fd = openSync(this.tempPath, 'wx');
    } catch (error) {
      throw new CaptureFileError(path, error);
    }
  }

  write(bytes: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new CaptureFileError(this.path, new Error('write after close or abort'));
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      throw new CaptureFileError(this.path, error);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tempPath, this.path);
    } catch (error) {
      this.abort();
      throw new CaptureFileError(this.path, error);
    }
  }

  abort(): void {
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (fd !== undefined) closeSync(fd);
      unlinkSync(this.tempPath);
    } catch {
      // Giving up is best effort: the file may be gone already (a failed rename after close).
    }
  }
}

/** A pcap or pcapng writer onto an `AtomicFileSink` at `path`. */
export function createCaptureFileWriter(path: string, format: 'pcap', options?: PcapWriterOptions): PcapWriter;
export function createCaptureFileWriter(path: string, format: 'pcapng', options?: PcapngWriterOptions): PcapngWriter;
export function createCaptureFileWriter(path: string, format: 'pcap' | 'pcapng', options?: PcapWriterOptions & PcapngWriterOptions): CaptureWriter;
export function createCaptureFileWriter(path: string, format: 'pcap' | 'pcapng', options: PcapWriterOptions & PcapngWriterOptions = {}): CaptureWriter {
  const sink = new AtomicFileSink(path);
  return format === 'pcap' ? new PcapWriter(sink, options) : new PcapngWriter(sink, options);
}
