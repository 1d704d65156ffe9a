// The Node edge of capture I/O: reading a capture file in large chunks as batches of records, and
// a file sink that makes a capture visible only once it is complete. Everything else in
// net/capture works on bytes and runs in browsers too.
import { closeSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CaptureReadOptions } from './decoder.js';
import { CaptureFileError } from './errors.js';
import { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
import { PcapngWriter, type PcapngWriterOptions } from './pcapng-writer.js';
import { CaptureReader } from './reader.js';
import type { CaptureRecord } from './record.js';
import type { CaptureSink } from './sink.js';
import type { CaptureWriter } from './writer.js';

/** Options of `readCaptureFile`. */
export interface CaptureFileReadOptions extends CaptureReadOptions {
  /** Bytes per read; default 1 MiB. */
  readonly chunkSize?: number;
}

/**
 * The records of a capture file, in batches (one per chunk read), so that there is no `await` per
 * packet and memory stays flat whatever the file's size. A batch's records are valid until the
 * batch after it is asked for. A corrupt or truncated file yields every record before the bad one,
 * then throws its `CaptureError`. Errors name the file as `options.name`, by default `path`.
 *
 * Chunks are read synchronously, between batches. Reads handed to libuv's thread pool (fs/promises)
 * overlapped with processing in theory, but on a busy 2-core machine each one waited for a core:
 * a replay spent a quarter of its time idle, awaiting 1 MiB reads that take ~0.2 ms of copying.
 */
export async function* readCaptureFile(path: string, options: CaptureFileReadOptions = {}): AsyncGenerator<CaptureRecord[], void, undefined> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  const reader = new CaptureReader({ ...options, name: options.name ?? path });
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CaptureFileError(path, error);
  }
  // Two buffers: a batch's records point into one while the next chunk is read into the other.
  let current = new Uint8Array(chunkSize);
  let other = new Uint8Array(chunkSize);
  try {
    for (;;) {
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, current, 0, chunkSize, null);
      } catch (error) {
        throw new CaptureFileError(path, error);
      }
      if (bytesRead === 0) break;
      reader.push(current.subarray(0, bytesRead));
      const batch: CaptureRecord[] = [];
      let failure: unknown;
      try {
        for (let record = reader.next(); record !== undefined; record = reader.next()) batch.push(record);
      } catch (error) {
        failure = error;
      }
      if (batch.length > 0) yield batch;
      if (failure !== undefined) throw failure;
      [current, other] = [other, current];
    }
    reader.end();
  } finally {
    closeSync(fd);
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
