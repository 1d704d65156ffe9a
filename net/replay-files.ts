// The Node edge of replay: captures read from files as batches of replay records (several files
// merged in time order, frames of any supported link type turned into Ethernet frames for their
// interface), and the frames that leave the datapath written to capture files per interface and
// fate (DESIGN.md "Replay", output): DIR/<ifname>-tx, DIR/<ifname>-pass, DIR/drop, DIR/aborted,
// and DIR/<ifname>-socket for packet sockets.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Netdev } from '../runtime/netdev.js';
import type { Network } from '../runtime/network.js';
import type { CaptureRecord, CaptureWriter } from './capture/index.js';
import { CaptureFileCursor, createCaptureFileWriter } from './capture/file.js';
import type { FrameEvent, FrameFate, PacketInfo } from './datapath.js';
import type { ReplayRecord } from './replay.js';
import { newRecord, outputCaptureName, ReplayRecordMaker, type CaptureInput, type MutableRecord } from './replay-records.js';
import { isEthernet } from './link-layer.js';
import type { LaneInput, LaneSource } from './replay-lane.js';

export { ReplayInputError, type CaptureInput } from './replay-records.js';

/** Records a batch hands `replay` between two awaits (and two progress reports). */
const BATCH_RECORDS = 4096;
const DONE: IteratorResult<ReplayRecord> = { done: true, value: undefined };

/**
 * Up to BATCH_RECORDS replay records, the earliest of the captures' next records each time (a frame
 * at the same time goes in the order the captures were given), decoded only as they are asked for:
 * a capture record lives for one step, and iterating fills one replay record in place, which is
 * valid until the next step (replay reads each record before the next).
 */
class BatchView implements LaneSource, Iterator<ReplayRecord> {
  private left = BATCH_RECORDS;
  private readonly result: IteratorResult<ReplayRecord> = { done: false, value: newRecord() };

  constructor(private readonly cursors: readonly Cursor[]) {}

  laneInput(): LaneInput | undefined {
    // Several captures merge record by record.
    if (this.cursors.length !== 1 || this.left <= 0) return undefined;
    return this.cursors[0]!.laneInput(this.left);
  }

  took(bytes: number, records: number): void {
    this.left -= records;
    this.cursors[0]!.skip(bytes, records);
  }

  [Symbol.iterator](): Iterator<ReplayRecord> {
    return this;
  }

  next(): IteratorResult<ReplayRecord> {
    if (this.left-- === 0) return DONE;
    const cursors = this.cursors;
    let first = cursors[0]!;
    let head = first.peek();
    for (let i = 1; i < cursors.length; i++) {
      const other = cursors[i]!.peek();
      if (other !== undefined && (head === undefined || earlier(other, head))) {
        first = cursors[i]!;
        head = other;
      }
    }
    if (head === undefined) return DONE;
    first.take(this.result.value as MutableRecord);
    return this.result;
  }
}

/** Where the replay is in its captures, for a progress display. */
export interface CaptureProgress {
  /** Bytes read so far, over every capture. */
  readonly bytesRead: number;
  /** The captures' total size. */
  readonly totalBytes: number;
}

/** One capture being read, a record at a time: `peek` shows the next one, `take` hands it out. */
class Cursor {
  /** File offset of the last record handed out. */
  offset = 0;
  private head: CaptureRecord | undefined = undefined;
  /** Whether `head` was handed out, so the next `peek` reads on. */
  private taken = true;
  private readonly file: CaptureFileCursor;
  private readonly maker: ReplayRecordMaker;

  constructor(readonly input: CaptureInput, network: Network) {
    this.maker = new ReplayRecordMaker(input, network);
    // Chunks of 256 KiB; a record handed out stays valid while the next chunk is read.
    this.file = new CaptureFileCursor(input.path, { chunkSize: 1 << 18 });
  }

  /** The next record, not yet handed out; undefined at the end of the capture. */
  peek(): CaptureRecord | undefined {
    if (this.taken) {
      this.taken = false;
      this.head = this.file.next();
    }
    return this.head;
  }

  /** Hands out the record `peek` showed, as a replay record filled into `into` (see ReplayRecordMaker), noting where in the file it was. */
  take(into: MutableRecord): MutableRecord {
    this.taken = true;
    this.offset = this.head!.offset;
    return this.maker.make(this.head!, into);
  }

  /**
   * Up to `most` records ahead as undecoded bytes (see LaneInput), when none is peeked and the
   * capture's frames reach the replay as they are: a little-endian pcap file, or pcapng section of
   * one interface with microsecond or nanosecond timestamps and no offset, of Ethernet frames with
   * no FCS to strip, received on the interface its input names (or, in pcapng, the capture's
   * interface names).
   */
  laneInput(most: number): LaneInput | undefined {
    if (!this.taken || this.input.direction !== 'in') return undefined;
    const ahead = this.file.recordsAhead();
    if (ahead === undefined) return undefined;
    const { layout } = ahead;
    const { iface } = layout;
    if (!layout.littleEndian || layout.fcsStripped || !isEthernet(iface.linkType)) return undefined;
    const pcapng = layout.format === 'pcapng';
    if (pcapng && (iface.tsOffsetSeconds !== 0 || (iface.unitsPerSecond !== 1e6 && iface.unitsPerSecond !== 1e9))) return undefined;
    const dev = this.input.interface ?? this.maker.deviceOf(iface);
    if (dev === undefined) return undefined;
    return {
      format: layout.format, chunk: ahead.chunk, start: ahead.start, end: ahead.end, number: ahead.number, most,
      snapLength: iface.snapLength, fractionScale: layout.fractionScale, interfaceId: iface.id, unitsPerSecond: iface.unitsPerSecond, dev,
    };
  }

  /** Moves past records the lane took from laneInput's bytes. */
  skip(bytes: number, records: number): void {
    this.file.skip(bytes, records);
    // Where the last record taken starts does not matter to progress; where the next one starts is close.
    this.offset = this.file.position;
  }

  /** Whether the capture has been read to its end. */
  get done(): boolean {
    return !this.taken && this.head === undefined;
  }

  close(): void {
    this.file.close();
  }
}

/**
 * The records of capture files as batches for `replay`, merged in time order across files (a frame
 * at the same time goes in the order the captures were given). Memory stays flat: each file is read
 * in chunks, and records are decoded one at a time as the replay asks for them.
 */
export async function* readCaptures(network: Network, inputs: readonly CaptureInput[], onProgress?: (p: CaptureProgress) => void): AsyncGenerator<Iterable<ReplayRecord>, void, undefined> {
  const totalBytes = inputs.reduce((n, i) => n + fileSize(i.path), 0);
  const cursors: Cursor[] = [];
  const progress = () => onProgress?.({ bytesRead: cursors.reduce((n, c) => n + (c.done ? fileSize(c.input.path) : c.offset), 0), totalBytes });
  try {
    for (const input of inputs) cursors.push(new Cursor(input, network));
    while (cursors.some((c) => c.peek() !== undefined)) {
      yield new BatchView(cursors);
      progress();
    }
  } finally {
    // Close the files, also of captures not read to the end (a limit, an error).
    for (const c of cursors) c.close();
  }
}

function earlier(a: CaptureRecord, b: CaptureRecord): boolean {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.nanoseconds < b.nanoseconds);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The capture files a replay writes, by interface and fate. */
export class ReplayOutput {
  private readonly writers = new Map<string, { path: string; writer: CaptureWriter; interfaces: Map<Netdev, number> }>();
  private readonly extension: string;

  /**
   * `describe` turns a frame's metadata pairs into the text of a pcapng comment (the runtime's
   * `metadataKeys.describe`, which names the keys); frames carry pairs when the replay's
   * `metadata` option is on.
   */
  constructor(readonly dir: string, network: Network, private readonly format: 'pcap' | 'pcapng' = 'pcap', private readonly describe?: (pairs: readonly [number, bigint][]) => string) {
    this.extension = format;
    // Every interface's tx and pass files, and drop and aborted, exist even when empty: "nothing left be3" is an answer too.
    for (const dev of network.list()) {
      if (dev === network.lo) continue;
      this.writer(`${dev.name}-tx`, dev);
      this.writer(`${dev.name}-pass`, dev);
      if (dev.program('socket_filter')) this.writer(`${dev.name}-socket`, dev);
    }
    this.writer('drop');
    this.writer('aborted');
  }

  /** Writes a frame that left the datapath to its file. */
  frame(event: FrameEvent, packet: PacketInfo): void {
    const name = outputCaptureName(event.fate, event.dev);
    const file = this.writer(name, event.dev);
    let comments: string[] | undefined;
    if (event.cause) comments = [`${event.dev.name} ${event.hook}${event.program ? ` ${event.program}` : ''}: ${event.cause}`];
    if (event.metadata && this.describe) (comments ??= []).push(`kv: ${this.describe(event.metadata)}`);
    file.writer.write({
      data: event.bytes, seconds: packet.seconds, nanoseconds: packet.nanoseconds,
      interfaceId: this.interfaceId(file, event.dev),
      // In pcapng, which way the frame went on its interface: out of it, or up its stack.
      ...(event.fate === 'tx' ? { direction: 'out' as const } : event.fate === 'pass' || event.fate === 'socket' ? { direction: 'in' as const } : {}),
      ...(comments ? { comments } : {}),
    });
  }

  /** Completes every file; returns them with their frame counts. */
  close(): { path: string; frames: number }[] {
    const out: { path: string; frames: number }[] = [];
    for (const f of this.writers.values()) {
      f.writer.close();
      out.push({ path: f.path, frames: f.writer.packets });
    }
    return out;
  }

  /** Removes every file (a replay that failed part-way through writing). */
  abort(): void {
    for (const f of this.writers.values()) f.writer.abort();
  }

  private writer(name: string, dev?: Netdev) {
    let file = this.writers.get(name);
    if (!file) {
      const path = join(this.dir, `${name}.${this.extension}`);
      // pcapng files describe the interfaces their frames were on: one for per-interface files, one per interface seen for drop and aborted.
      const writer = this.format === 'pcapng'
        ? createCaptureFileWriter(path, 'pcapng', { interfaces: dev && name !== 'drop' && name !== 'aborted' ? [{ name: dev.name }] : [] })
        : createCaptureFileWriter(path, 'pcap', { precision: 'nanoseconds' });
      file = { path, writer, interfaces: new Map(dev && name !== 'drop' && name !== 'aborted' ? [[dev, 0]] : []) };
      this.writers.set(name, file);
    }
    return file;
  }

  private interfaceId(file: { writer: CaptureWriter; interfaces: Map<Netdev, number> }, dev: Netdev): number {
    if (this.format !== 'pcapng') return 0;
    let id = file.interfaces.get(dev);
    if (id === undefined) {
      id = (file.writer as unknown as { addInterface(spec: { name: string }): number }).addInterface({ name: dev.name });
      file.interfaces.set(dev, id);
    }
    return id;
  }
}
