// net/capture/file.ts, the Node edge: reading a capture file in batches (records before a bad one
// first, then its error naming the file), and writing through a temporary file that is renamed on
// close and removed on abort.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CaptureError, CaptureFileError, captureRecords, PcapngWriter, type CaptureRecord } from '../../net/capture/index.js';
import { AtomicFileSink, createCaptureFileWriter, readCaptureFile } from '../../net/capture/file.js';
import { Prng } from '../../fuzz/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'capture-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `count` random packets to `path` in `format`; returns their bytes. */
function writeCapture(path: string, format: 'pcap' | 'pcapng', count: number): Uint8Array[] {
  const rng = new Prng(count);
  const writer = createCaptureFileWriter(path, format, { interfaces: [{ name: 'eth0' }], precision: 'nanoseconds' });
  const datas: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const data = rng.bytes(rng.int(14, 300));
    datas.push(data);
    writer.write({ data, seconds: 1_700_000_000 + i, nanoseconds: i, comments: [`n=${i}`] });
  }
  writer.close();
  return datas;
}

/** All batches of a file: the records' data copied while each batch is current, and the error, if any. */
async function readBatches(path: string, chunkSize: number, name?: string): Promise<{ batches: number; datas: Uint8Array[]; records: CaptureRecord[]; error: unknown }> {
  const datas: Uint8Array[] = [];
  const records: CaptureRecord[] = [];
  let batches = 0;
  try {
    for await (const batch of readCaptureFile(path, { chunkSize, ...(name ? { name } : {}) })) {
      batches++;
      for (const r of batch) {
        datas.push(r.data.slice());
        records.push(r);
      }
    }
    return { batches, datas, records, error: undefined };
  } catch (error) {
    return { batches, datas, records, error };
  }
}

describe('readCaptureFile', () => {
  test.for(['pcap', 'pcapng'] as const)('%s: batches per chunk, the same records as in memory', async (format) => {
    const path = join(dir, `batches.${format}`);
    const written = writeCapture(path, format, 1500);
    const { batches, datas, records, error } = await readBatches(path, 16 * 1024);
    expect(error).toBeUndefined();
    expect(batches).toBeGreaterThan(10);
    expect(datas).toEqual(written);
    const inMemory = [...captureRecords(new Uint8Array(readFileSync(path)))];
    expect(records.map((r) => [r.number, r.offset, r.seconds, r.nanoseconds, r.comments])).toEqual(inMemory.map((r) => [r.number, r.offset, r.seconds, r.nanoseconds, r.comments]));
  });

  test('a truncated file gives every record before the cut, then its error naming the file', async () => {
    const path = join(dir, 'cut.pcapng');
    const written = writeCapture(path, 'pcapng', 500);
    const whole = readFileSync(path);
    const records = [...captureRecords(new Uint8Array(whole))];
    const last = records[records.length - 1]!;
    writeFileSync(path, whole.subarray(0, last.offset + 20));
    const result = await readBatches(path, 4096);
    expect(result.datas).toEqual(written.slice(0, 499));
    expect(result.error).toBeInstanceOf(CaptureError);
    expect((result.error as Error).message).toBe(`${path}: record 500 at byte ${last.offset}: truncated: enhanced packet block header says ${whole.length - last.offset} bytes, 20 remain`);
    const named = await readBatches(path, 4096, 'traffic.pcapng');
    expect((named.error as Error).message).toMatch(/^traffic\.pcapng: record 500 at byte \d+: truncated/);
  });

  test('a corrupt record in the middle ends reading there', async () => {
    const path = join(dir, 'corrupt.pcap');
    writeCapture(path, 'pcap', 100);
    const bytes = new Uint8Array(readFileSync(path));
    const victim = [...captureRecords(bytes)][40]!;
    new DataView(bytes.buffer).setUint32(victim.offset + 8, 1_000_000, true);
    writeFileSync(path, bytes);
    const result = await readBatches(path, 1000);
    expect(result.records.length).toBe(40);
    expect((result.error as Error).message).toBe(`${path}: record 41 at byte ${victim.offset}: captured length 1000000 exceeds the maximum of 262144`);
  });

  test('a missing file is a CaptureFileError naming it', async () => {
    const result = await readBatches(join(dir, 'nope.pcap'), 1000);
    expect(result.error).toBeInstanceOf(CaptureFileError);
    expect((result.error as Error).message).toContain('nope.pcap: ENOENT');
  });

  test('leaving the loop early closes the file', async () => {
    const path = join(dir, 'early.pcap');
    writeCapture(path, 'pcap', 2000);
    let seen = 0;
    for await (const batch of readCaptureFile(path, { chunkSize: 4096 })) {
      seen += batch.length;
      break;
    }
    expect(seen).toBeGreaterThan(0);
    // The handle is closed: the directory can be removed and the file read again at once.
    expect((await readBatches(path, 1 << 20)).records.length).toBe(2000);
  });
});

describe('AtomicFileSink', () => {
  test('the capture appears under its name only on close', () => {
    const path = join(dir, 'atomic.pcapng');
    const sink = new AtomicFileSink(path);
    const writer = new PcapngWriter(sink, { chunkSize: 64 });
    for (let i = 0; i < 10; i++) writer.write({ data: new Uint8Array(100), seconds: i, nanoseconds: 0 });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(sink.tempPath)).toBe(true);
    expect(sink.tempPath.startsWith(join(dir, '.atomic.pcapng.'))).toBe(true);
    writer.close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(sink.tempPath)).toBe(false);
    expect([...captureRecords(new Uint8Array(readFileSync(path)))].length).toBe(10);
  });

  test('abort leaves nothing behind, and an existing capture untouched', () => {
    const path = join(dir, 'kept.pcap');
    writeFileSync(path, 'previous');
    const writer = createCaptureFileWriter(path, 'pcap', { chunkSize: 64 });
    for (let i = 0; i < 10; i++) writer.write({ data: new Uint8Array(100), seconds: i, nanoseconds: 0 });
    writer.abort();
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(dir).filter((f) => f.startsWith('.kept.pcap'))).toEqual([]);
  });

  test('a directory that does not exist is a CaptureFileError naming the path', () => {
    expect(() => createCaptureFileWriter(join(dir, 'missing', 'x.pcap'), 'pcap')).toThrow(CaptureFileError);
  });
});
