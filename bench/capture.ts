// Benchmarks of capture I/O and the traffic generator: ns per record to read pcap and pcapng
// (pushed in 1 MiB chunks and collected into batches, as readCaptureFile does; with and without
// making each record's data view), ns per record to write them (to a sink that discards), and ns
// per generated frame. Captures are of generated traffic with small payloads (60-100-byte frames).
import { CaptureReader, PcapngWriter, PcapWriter, randomTraffic, type CaptureRecord, type CaptureSink, type CaptureWriter, type TrafficFrame } from '../index.js';

const RECORDS = 100_000;
const CHUNK = 1 << 20;
const ROUNDS = 5;

/** A sink that keeps the bytes (to read them back) or discards them (to time writing alone). */
class BenchSink implements CaptureSink {
  readonly chunks: Uint8Array[] = [];
  constructor(private readonly keep: boolean) {}
  write(bytes: Uint8Array): void {
    if (this.keep) this.chunks.push(new Uint8Array(bytes));
  }
  close(): void {}
  abort(): void {}
}

/** Median of `ROUNDS` timings of `fn` in ns per record, after a warm-up round. */
function nsPerRecord(fn: () => number): number {
  fn();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const n = fn();
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  return samples.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

/** Reads chunks as readCaptureFile does, into batches; touches the data view when `views`. */
function readAll(chunks: readonly Uint8Array[], views: boolean): number {
  const reader = new CaptureReader();
  let records = 0;
  let sink = 0;
  for (const chunk of chunks) {
    reader.push(chunk);
    const batch: CaptureRecord[] = [];
    for (let r = reader.next(); r !== undefined; r = reader.next()) batch.push(r);
    for (const r of batch) sink += views ? r.data[12]! : r.capturedLength + r.nanoseconds;
    records += batch.length;
  }
  reader.end();
  if (sink < 0) throw new Error('unreachable');
  return records;
}

/** One chunk list of the whole capture, cut at 1 MiB whatever the writer's chunks. */
function rechunk(chunks: readonly Uint8Array[]): Uint8Array[] {
  const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < whole.length; i += CHUNK) out.push(whole.subarray(i, i + CHUNK));
  return out;
}

/** Figures of one format. */
export interface CaptureFigure {
  readonly format: 'pcap' | 'pcapng';
  readonly bytesPerRecord: number;
  /** ns per record read into batches, data not touched. */
  readonly readNs: number;
  /** ns per record read into batches, each record's `data` view made and read. */
  readonly readNsWithData: number;
  /** ns per record written to a discarding sink. */
  readonly writeNs: number;
}

/** Reader and writer ns per record for pcap and pcapng, and the generator's ns per frame. */
export function captureFigures(): { formats: CaptureFigure[]; generateNs: number } {
  const frames: TrafficFrame[] = [...randomTraffic({ seed: 1, packets: RECORDS, mix: { maxPayload: 40 } })];
  const formats: CaptureFigure[] = [];
  for (const format of ['pcap', 'pcapng'] as const) {
    const make = (sink: CaptureSink): CaptureWriter => (format === 'pcap' ? new PcapWriter(sink, { precision: 'nanoseconds' }) : new PcapngWriter(sink));
    const kept = new BenchSink(true);
    const writer = make(kept);
    for (const f of frames) writer.write(f);
    writer.close();
    const chunks = rechunk(kept.chunks);
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    const writeNs = nsPerRecord(() => {
      const w = make(new BenchSink(false));
      for (const f of frames) w.write(f);
      w.close();
      return frames.length;
    });
    formats.push({
      format,
      bytesPerRecord: bytes / frames.length,
      readNs: nsPerRecord(() => readAll(chunks, false)),
      readNsWithData: nsPerRecord(() => readAll(chunks, true)),
      writeNs,
    });
  }
  const generateNs = nsPerRecord(() => {
    let n = 0;
    for (const f of randomTraffic({ seed: 2, packets: 25_000, mix: { maxPayload: 40 } })) n += f.data.length > 0 ? 1 : 0;
    return n;
  });
  return { formats, generateNs };
}
