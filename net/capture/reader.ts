// The streaming capture reader: a synchronous push parser over chunks of any size. The caller
// pushes a chunk, pulls records until `next()` returns undefined, pushes the next chunk, and calls
// `end()` after the last one. Records point into the pushed chunks (no copy); only a unit that
// straddles two chunks is copied, into memory of its own.
import { hex32, u32 } from './bytes.js';
import type { CaptureDecoder, CaptureReadOptions, RecordLayout } from './decoder.js';
import { CaptureError, CaptureUsageError } from './errors.js';
import { PcapDecoder } from './pcap-reader.js';
import { BlockType } from './pcapng-format.js';
import { PcapngDecoder } from './pcapng-reader.js';
import type { CaptureInterface, CaptureRecord } from './record.js';

const EMPTY = new Uint8Array(0);

/** Undecoded records ahead: `chunk[start..end)`, at `offset` in the file; the first is record `number`. */
export interface RecordsAhead {
  readonly chunk: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly offset: number;
  readonly number: number;
  readonly layout: RecordLayout;
}

/**
 * Reads pcap or pcapng (told apart by the magic) from pushed chunks. Protocol: `push(chunk)`, then
 * `next()` until it returns undefined; once it has, the reader keeps no reference to the chunk, so
 * its memory may be reused for the next `push` (which ends the life of the records pointing into
 * it). `end()` after the last chunk throws if the input stopped inside a record. After a
 * `CaptureError` every later call throws it again.
 */
export class CaptureReader {
  private decoder: CaptureDecoder | undefined = undefined;
  /** The chunk being read, zero-copy. */
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** End of the unread bytes in `buf`. */
  private limit = 0;
  /** File offset of `buf[0]`. */
  private base = 0;
  /** The start of a unit that straddles chunks, copied; `carryLength` bytes of it are present. */
  private carry: Uint8Array = EMPTY;
  private carryLength = 0;
  private carryOffset = 0;
  private readonly queue: Uint8Array[] = [];
  /** File offset where the next queued chunk starts. */
  private queuedOffset = 0;
  private failure: CaptureError | undefined = undefined;
  private readonly options: CaptureReadOptions;

  constructor(options: CaptureReadOptions = {}) {
    this.options = options;
  }

  /** 'pcap' or 'pcapng' once the magic has been read. */
  get format(): 'pcap' | 'pcapng' | undefined {
    return this.decoder?.format;
  }

  /** The interfaces of the current section (pcap: its one pseudo-interface), in id order. */
  get interfaces(): readonly CaptureInterface[] {
    return this.decoder?.interfaces ?? [];
  }

  /** Offset in the input past the bytes decoded so far (and any held back for a record split across chunks). */
  get position(): number {
    return this.base + this.pos;
  }

  /** Bytes pushed so far (for progress: compare with the input size). */
  get bytesPushed(): number {
    return this.queuedOffset;
  }

  /** Hands the reader the next chunk of the input. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queuedOffset += chunk.length;
  }

  /** The next record, or undefined when the pushed bytes hold no complete one. Throws `CaptureError`. */
  next(): CaptureRecord | undefined {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.read();
    } catch (error) {
      if (error instanceof CaptureError) this.failure = error;
      throw error;
    }
  }

  /** Declares the input complete: throws a `CaptureError` if it stopped inside a unit or was empty. */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.next() !== undefined) throw new CaptureUsageError('CaptureReader.end() called before next() returned undefined');
    if (this.carryLength > 0) {
      this.failure = this.decoder === undefined
        ? new CaptureError('capture-truncated', this.name, 0, 0, `truncated: the magic number needs 4 bytes, ${this.carryLength} remain`)
        : this.decoder.truncated(this.carry, 0, this.carryLength, this.carryOffset);
    } else if (this.decoder === undefined) {
      this.failure = new CaptureError('capture-truncated', this.name, 0, 0, 'empty input: no capture file header');
    } else {
      return;
    }
    throw this.failure;
  }

  /**
   * The bytes ahead in the current chunk, for a caller that decodes whole records itself (the
   * replay lane) and then `skip`s past them: undefined unless the decoder can say how the records
   * read (RecordLayout) and no record split across chunks is pending. A record not whole in the
   * chunk is left to next(), which reads on.
   */
  recordsAhead(): RecordsAhead | undefined {
    const decoder = this.decoder;
    if (this.failure !== undefined || this.carryLength > 0 || decoder === undefined) return undefined;
    const layout = decoder.layout;
    if (layout === undefined) return undefined;
    return { chunk: this.buf, start: this.pos, end: this.limit, offset: this.position, number: decoder.recordsRead + 1, layout };
  }

  /** Moves past `bytes` bytes of `records` whole records that the caller of recordsAhead decoded itself. */
  skip(bytes: number, records: number): void {
    if (this.decoder === undefined || this.carryLength > 0 || bytes > this.limit - this.pos) {
      throw new CaptureUsageError('CaptureReader.skip() past the bytes recordsAhead() showed');
    }
    this.pos += bytes;
    this.decoder.skipped(records);
  }

  private get name(): string {
    return this.options.name ?? 'capture';
  }

  private read(): CaptureRecord | undefined {
    for (;;) {
      if (this.carryLength > 0) {
        const record = this.completeCarry();
        if (record === undefined) return undefined;
        if (record !== null) return record;
        continue;
      }
      const pos = this.pos;
      const avail = this.limit - pos;
      if (avail === 0) {
        if (!this.takeQueued()) return undefined;
        continue;
      }
      const buf = this.buf;
      const offset = this.base + pos;
      const decoder = this.decoder ?? this.chooseDecoder(buf, pos, avail);
      if (decoder === undefined) {
        this.keep(buf, pos, avail, offset, 4);
        continue;
      }
      const record = decoder.decode(buf, pos, avail, offset);
      if (record !== undefined) {
        this.pos = pos + decoder.needed;
        if (record !== null) return record;
        continue;
      }
      // The unit goes on in the next chunk: copy what is here, so that this chunk can be released.
      this.keep(buf, pos, avail, offset, decoder.needed);
    }
  }

  /** Copies the start of a unit that goes on in the next chunk into a carry buffer of its own. */
  private keep(buf: Uint8Array, pos: number, avail: number, offset: number, needed: number): void {
    this.carry = new Uint8Array(Math.max(needed, avail));
    this.carry.set(buf.subarray(pos, pos + avail));
    this.carryLength = avail;
    this.carryOffset = offset;
    this.pos += avail;
  }

  /**
   * Tops up the carried unit from the queued chunks: its record (or null for a unit without one)
   * when complete, undefined when the queued bytes run out first.
   */
  private completeCarry(): CaptureRecord | null | undefined {
    for (;;) {
      const decoder = this.decoder ?? this.chooseDecoder(this.carry, 0, this.carryLength);
      const record = decoder?.decode(this.carry, 0, this.carryLength, this.carryOffset);
      if (record !== undefined) {
        // The carry buffer now belongs to the record decoded from it; the next straddling unit gets a new one.
        this.carry = EMPTY;
        this.carryLength = 0;
        return record;
      }
      const needed = decoder?.needed ?? 4;
      if (this.pos === this.limit && !this.takeQueued()) return undefined;
      if (needed > this.carry.length) {
        const grown = new Uint8Array(needed);
        grown.set(this.carry.subarray(0, this.carryLength));
        this.carry = grown;
      }
      const take = Math.min(needed - this.carryLength, this.limit - this.pos);
      this.carry.set(this.buf.subarray(this.pos, this.pos + take), this.carryLength);
      this.carryLength += take;
      this.pos += take;
    }
  }

  private takeQueued(): boolean {
    const chunk = this.queue.shift();
    this.base += this.limit;
    if (chunk === undefined) {
      this.buf = EMPTY;
      this.pos = this.limit = 0;
      return false;
    }
    this.buf = chunk;
    this.pos = 0;
    this.limit = chunk.length;
    return true;
  }

  /** The decoder the magic at `pos` calls for, or undefined while fewer than 4 bytes are present. */
  private chooseDecoder(buf: Uint8Array, pos: number, avail: number): CaptureDecoder | undefined {
    if (avail < 4) return undefined;
    const magicLittleEndian = u32(buf, pos, true);
    this.decoder = this.makeDecoder(magicLittleEndian);
    return this.decoder;
  }

  private makeDecoder(magicLittleEndian: number): CaptureDecoder {
    if (PcapDecoder.recognises(magicLittleEndian)) return new PcapDecoder(magicLittleEndian, this.options);
    if (magicLittleEndian === BlockType.SECTION_HEADER) return new PcapngDecoder(this.options);
    if (PcapDecoder.isUnsupportedVariant(magicLittleEndian)) {
      throw new CaptureError('capture-unsupported', this.name, 0, 0, 'modified (Kuznetzov) pcap is not supported');
    }
    throw new CaptureError('capture-bad-magic', this.name, 0, 0, `not a pcap or pcapng file: magic ${hex32(magicLittleEndian)}`);
  }
}

/** The capture format `bytes` start with (the magics the reader recognises), or undefined. */
export function captureFormatOf(bytes: Uint8Array): 'pcap' | 'pcapng' | undefined {
  if (bytes.length < 4) return undefined;
  const magicLittleEndian = u32(bytes, 0, true);
  if (PcapDecoder.recognises(magicLittleEndian)) return 'pcap';
  return magicLittleEndian === BlockType.SECTION_HEADER ? 'pcapng' : undefined;
}

/** Every record of a capture held in memory, in order; records stay valid as long as `bytes`. */
export function* captureRecords(bytes: Uint8Array, options: CaptureReadOptions = {}): Generator<CaptureRecord, void, undefined> {
  const reader = new CaptureReader(options);
  reader.push(bytes);
  for (let record = reader.next(); record !== undefined; record = reader.next()) yield record;
  reader.end();
}
