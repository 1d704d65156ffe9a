// net/capture readers on corrupt and truncated input: every record before the bad one comes out
// first, then one CaptureError whose one-line message names the file, the record, the byte offset
// and what is wrong. Every case is also read in chunks of 1 and 5 bytes, with the same outcome.
import { describe, expect, test } from 'vitest';
import { CaptureError, CaptureReader, CaptureUsageError } from '../../net/capture/index.js';
import { block, Bytes, concat, counting, epb, idb, pcapHeader, pcapRecord, shb, spb } from './support/blocks.js';
import { readChunked } from './support/read.js';

const twoRecords = concat(pcapHeader(), pcapRecord(counting(60)), pcapRecord(counting(70)));
const afterTwo = twoRecords.length; // 24 + 76 + 86
const ngStart = concat(shb(), idb(), epb(counting(60)));
const ngAfter = ngStart.length;

interface Case {
  name: string;
  bytes: Uint8Array;
  records: number;
  code: string;
  message: string;
}

const CASES: Case[] = [
  { name: 'empty input', bytes: new Uint8Array(0), records: 0, code: 'capture-truncated', message: 'test.cap: file header at byte 0: empty input: no capture file header' },
  { name: 'less than a magic number', bytes: Uint8Array.of(0xd4, 0xc3, 0xb2), records: 0, code: 'capture-truncated', message: 'test.cap: file header at byte 0: truncated: the magic number needs 4 bytes, 3 remain' },
  { name: 'bad magic', bytes: new TextEncoder().encode('GIF89a......................'), records: 0, code: 'capture-bad-magic', message: 'test.cap: file header at byte 0: not a pcap or pcapng file: magic 0x38464947' },
  { name: 'modified pcap', bytes: new Bytes().u32(0xa1b2cd34).u32(0).done(), records: 0, code: 'capture-unsupported', message: 'test.cap: file header at byte 0: modified (Kuznetzov) pcap is not supported' },
  { name: 'pcap header cut short', bytes: pcapHeader().subarray(0, 20), records: 0, code: 'capture-truncated', message: 'test.cap: file header at byte 0: truncated: the file header needs 24 bytes, 20 remain' },
  { name: 'pcap version 3', bytes: pcapHeader({ major: 3 }), records: 0, code: 'capture-unsupported', message: 'test.cap: file header at byte 0: pcap version 3.4 is not supported (2.x is)' },
  {
    name: 'pcap captured length over the maximum',
    bytes: concat(twoRecords, pcapRecord(counting(8), { caplen: 300_000 })),
    records: 2, code: 'capture-corrupt',
    message: `test.cap: record 3 at byte ${afterTwo}: captured length 300000 exceeds the maximum of 262144`,
  },
  {
    name: 'pcap captured length far over the snapshot length',
    bytes: concat(pcapHeader({ snap: 96 }), pcapRecord(counting(96)), pcapRecord(counting(1000))),
    records: 1, code: 'capture-corrupt',
    message: 'test.cap: record 2 at byte 136: captured length 1000 is far over the snapshot length 96',
  },
  {
    name: 'pcap record cut in its data',
    bytes: concat(twoRecords, pcapRecord(counting(1514)).subarray(0, 16 + 200)),
    records: 2, code: 'capture-truncated',
    message: `test.cap: record 3 at byte ${afterTwo}: truncated: header says 1514 bytes, 200 remain`,
  },
  {
    name: 'pcap record cut in its header',
    bytes: concat(twoRecords, pcapRecord(counting(10)).subarray(0, 7)),
    records: 2, code: 'capture-truncated',
    message: `test.cap: record 3 at byte ${afterTwo}: truncated: the record header needs 16 bytes, 7 remain`,
  },
  {
    name: 'pcapng section header with a bad byte-order magic',
    bytes: new Bytes().u32(0x0a0d0d0a).u32(28).u32(0x11223344).u32(0).u32(0).u32(0).u32(28).done(),
    records: 0, code: 'capture-corrupt',
    message: 'test.cap: file header at byte 0: section header block has byte-order magic 0x11223344, not 0x1a2b3c4d in either order',
  },
  { name: 'pcapng version 2', bytes: shb({ major: 2 }), records: 0, code: 'capture-unsupported', message: 'test.cap: file header at byte 0: pcapng version 2.0 is not supported (1.x is)' },
  {
    name: 'block length not a multiple of 4',
    bytes: concat(ngStart, epb(counting(8), { length: 42 })),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: block length 42 is not a multiple of 4`,
  },
  {
    name: 'enhanced packet block shorter than its fixed fields',
    bytes: concat(ngStart, block(6, (b) => b.u32(0).u32(0).u32(0))),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: enhanced packet block length 24 is below its minimum of 32`,
  },
  {
    name: 'block length beyond any real block',
    bytes: concat(ngStart, new Bytes().u32(6).u32(0x40000000).done()),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: block length 1073741824 exceeds the maximum of 16777216`,
  },
  {
    name: 'block trailer that disagrees with the header',
    bytes: concat(ngStart, epb(counting(8), { trailer: 44 })),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: block trailer says 44 bytes, its header 40`,
  },
  {
    name: 'packet on an interface that does not exist',
    bytes: concat(ngStart, epb(counting(8), { iface: 2 })),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: packet block names interface 2, but the section has 1`,
  },
  {
    name: 'captured length larger than its block',
    bytes: concat(ngStart, epb(counting(8), { caplen: 64 })),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: captured length 64 does not fit in a block of 40 bytes`,
  },
  {
    name: 'option running past its block',
    bytes: concat(ngStart, block(6, (b) => b.u32(0).u32(0).u32(0).u32(4).u32(4).raw([1, 2, 3, 4]).u16(1).u16(200))),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: option 1 at byte ${ngAfter + 32} (200 bytes) overruns the block`,
  },
  {
    name: 'simple packet block in a section without interfaces',
    bytes: concat(shb(), spb(counting(8))),
    records: 0, code: 'capture-corrupt',
    message: 'test.cap: record 1 at byte 28: simple packet block in a section with no interface',
  },
  {
    name: 'if_tsresol finer than 10^-15',
    bytes: concat(shb(), idb({ options: [{ code: 9, value: Uint8Array.of(16) }] })),
    records: 0, code: 'capture-unsupported',
    message: 'test.cap: record 1 at byte 28: if_tsresol 0x10 is finer than this reader handles',
  },
  {
    name: 'pcapng block cut in its data',
    bytes: concat(ngStart, epb(counting(1514)).subarray(0, 200)),
    records: 1, code: 'capture-truncated',
    message: `test.cap: record 2 at byte ${ngAfter}: truncated: enhanced packet block header says 1548 bytes, 200 remain`,
  },
  {
    name: 'pcapng block cut in its header',
    bytes: concat(ngStart, epb(counting(10)).subarray(0, 5)),
    records: 1, code: 'capture-truncated',
    message: `test.cap: record 2 at byte ${ngAfter}: truncated: a block header needs 8 bytes, 5 remain`,
  },
  {
    name: 'second section header cut before its length is known',
    bytes: concat(ngStart, shb({ le: false }).subarray(0, 10)),
    records: 1, code: 'capture-truncated',
    message: `test.cap: record 2 at byte ${ngAfter}: truncated: a section header needs 12 bytes to give its length, 10 remain`,
  },
  {
    name: 'corrupt second section header',
    bytes: concat(ngStart, new Bytes().u32(0x0a0d0d0a).u32(28).u32(0x1a2b3c4d).u32(1).u32(0).u32(0).u32(32).done()),
    records: 1, code: 'capture-corrupt',
    message: `test.cap: record 2 at byte ${ngAfter}: block trailer says 32 bytes, its header 28`,
  },
];

describe('corrupt and truncated captures', () => {
  test.for(CASES)('$name', ({ bytes, records, code, message }) => {
    for (const chunk of [bytes.length || 1, 1, 5]) {
      const result = readChunked(bytes, chunk);
      expect(result.records.length).toBe(records);
      expect(result.error).toBeInstanceOf(CaptureError);
      const error = result.error as CaptureError;
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
      expect(error.message).not.toContain('\n');
    }
  });

  test('the error carries its location as fields, and every later call throws it again', () => {
    const bytes = concat(twoRecords, pcapRecord(counting(1514)).subarray(0, 216));
    const reader = new CaptureReader({ name: 'traffic.pcap' });
    reader.push(bytes);
    expect(reader.next()!.number).toBe(1);
    expect(reader.next()!.number).toBe(2);
    expect(reader.next()).toBeUndefined();
    let thrown: unknown;
    try {
      reader.end();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ file: 'traffic.pcap', record: 3, offset: afterTwo, detail: 'truncated: header says 1514 bytes, 200 remain' });
    expect(() => reader.next()).toThrow(thrown as Error);
    expect(() => reader.end()).toThrow(thrown as Error);
  });

  test('end() before the records are read is a usage error', () => {
    const reader = new CaptureReader();
    reader.push(twoRecords);
    expect(() => reader.end()).toThrow(CaptureUsageError);
  });
});
