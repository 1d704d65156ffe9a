// net/capture readers over hand-assembled input: pcap in both byte orders and precisions, the
// FCS bits of its link-type field; pcapng sections in both byte orders, interfaces and their
// options, enhanced, simple and obsolete packet blocks, comments, skipped block types. Every case
// is read whole and in chunks of 1, 3 and 1000 bytes, with the same result.
import { describe, expect, test } from 'vitest';
import { CaptureReader, captureFormatOf, captureRecords, LinkType, linkTypeName, timestampNs } from '../../net/capture/index.js';
import { block, concat, counting, epb, idb, opb, pcapHeader, pcapRecord, shb, spb } from './support/blocks.js';
import { readChunked, type PlainRecord } from './support/read.js';

const CHUNKS = [1, 3, 1000];

/** Reads `bytes` whole, checks every chunking gives the same, and returns the records. */
function readAll(bytes: Uint8Array, options = {}): PlainRecord[] {
  const whole = readChunked(bytes, bytes.length, options);
  expect(whole.error).toBeUndefined();
  for (const chunk of CHUNKS) expect(readChunked(bytes, chunk, options)).toEqual(whole);
  return whole.records;
}

test('captureFormatOf names the format by the magics the reader recognises', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) expect(captureFormatOf(pcapHeader({ le, nano }))).toBe('pcap');
    expect(captureFormatOf(shb({ le }))).toBe('pcapng');
  }
  expect(captureFormatOf(new Uint8Array([0x02, 0, 0, 0, 0, 2]))).toBeUndefined();
  expect(captureFormatOf(new Uint8Array([0xd4, 0xc3]))).toBeUndefined();
});

describe('pcap', () => {
  test.for([
    { name: 'little-endian, microseconds', le: true, nano: false },
    { name: 'big-endian, microseconds', le: false, nano: false },
    { name: 'little-endian, nanoseconds', le: true, nano: true },
    { name: 'big-endian, nanoseconds', le: false, nano: true },
  ])('$name', ({ le, nano }) => {
    const a = counting(60);
    const b = counting(100, 7);
    const bytes = concat(
      pcapHeader({ le, nano, snap: 96 }),
      pcapRecord(a, { le, sec: 1_700_000_000, frac: nano ? 123_456_789 : 123_456 }),
      pcapRecord(b.subarray(0, 96), { le, sec: 1_700_000_001, frac: 5, orig: 100 }),
    );
    const records = readAll(bytes);
    expect(records).toEqual([
      { number: 1, offset: 24, data: [...a], originalLength: 60, seconds: 1_700_000_000, nanoseconds: nano ? 123_456_789 : 123_456_000, interfaceId: 0, section: 0, name: undefined, linkType: 1, comments: [] },
      { number: 2, offset: 24 + 16 + 60, data: [...b.subarray(0, 96)], originalLength: 100, seconds: 1_700_000_001, nanoseconds: nano ? 5 : 5000, interfaceId: 0, section: 0, name: undefined, linkType: 1, comments: [] },
    ]);
  });

  test.for([
    { linkType: LinkType.ETHERNET, name: 'ethernet' },
    { linkType: LinkType.RAW, name: 'raw' },
    { linkType: LinkType.IPV4, name: 'ipv4' },
    { linkType: LinkType.IPV6, name: 'ipv6' },
    { linkType: 113, name: 'linktype 113' },
  ])('reports link type $linkType ($name)', ({ linkType, name }) => {
    const [record] = readAll(concat(pcapHeader({ linkType }), pcapRecord(counting(20))));
    expect(record!.linkType).toBe(linkType);
    expect(linkTypeName(linkType)).toBe(name);
  });

  test('the FCS bits of the link-type field give the FCS length, and stripFcs drops it', () => {
    // LT_FCS_LENGTH_PRESENT with 2 16-bit words: a 4-byte FCS on Ethernet.
    const header = pcapHeader({ linkType: 1 | 0x04000000 | (2 << 28) });
    const bytes = concat(header, pcapRecord(counting(64)), pcapRecord(counting(64), { caplen: 30, orig: 64 }).subarray(0, 16 + 30));
    const reader = new CaptureReader();
    reader.push(bytes);
    const first = reader.next()!;
    expect(first.interface).toMatchObject({ linkType: 1, fcsLength: 4 });
    expect(first.capturedLength).toBe(64);
    const stripped = readAll(bytes, { stripFcs: true });
    expect(stripped.map((r) => [r.data.length, r.originalLength])).toEqual([[60, 60], [30, 64]]); // a cut frame keeps what it has
  });

  test('a fraction of a second or more is carried into the seconds', () => {
    const [record] = readAll(concat(pcapHeader(), pcapRecord(counting(10), { sec: 10, frac: 2_500_000 })));
    expect([record!.seconds, record!.nanoseconds]).toEqual([12, 500_000_000]);
  });

  test('a header and no records is an empty capture', () => {
    expect(readAll(pcapHeader())).toEqual([]);
  });
});

describe('pcapng', () => {
  const comment = (value: string) => ({ code: 1, value });
  const ifName = (value: string) => ({ code: 2, value });

  test.for([{ le: true }, { le: false }])('a section in either byte order (little-endian $le)', ({ le }) => {
    const bytes = concat(
      shb({ le, options: [{ code: 4, value: 'hand-made' }] }),
      idb({ le, linkType: 1, options: [ifName('wan0')] }),
      idb({ le, linkType: LinkType.RAW, options: [ifName('tun0'), { code: 9, value: Uint8Array.of(9) }] }),
      epb(counting(42), { le, iface: 0, hi: 0x00060a1b, lo: 0x2c3d4e5f, options: [comment('first'), comment('vlan=7 käse ✓')] }),
      epb(counting(41, 1), { le, iface: 1, hi: 0x17979cfe, lo: 0x362a0000 }),
    );
    const records = readAll(bytes);
    const usecs = 0x00060a1b * 2 ** 32 + 0x2c3d4e5f;
    expect(records.map((r) => [r.number, r.name, r.interfaceId, r.linkType, r.data.length, r.comments])).toEqual([
      [1, 'wan0', 0, 1, 42, ['first', 'vlan=7 käse ✓']],
      [2, 'tun0', 1, 101, 41, []],
    ]);
    expect([records[0]!.seconds, records[0]!.nanoseconds]).toEqual([Math.floor(usecs / 1e6), (usecs % 1e6) * 1000]);
    const ns = (0x17979cfen << 32n) | 0x362a0000n;
    expect(BigInt(records[1]!.seconds) * 1_000_000_000n + BigInt(records[1]!.nanoseconds)).toBe(ns);
    expect(records[0]!.offset).toBe(bytes.length - epb(counting(41, 1)).length - epb(counting(42), { options: [comment('first'), comment('vlan=7 käse ✓')] }).length);
  });

  test('several sections: byte order changes, interface ids start again', () => {
    const bytes = concat(
      shb({ le: true }),
      idb({ le: true, options: [ifName('a0')] }),
      epb(counting(20), { le: true }),
      shb({ le: false }),
      idb({ le: false, linkType: LinkType.IPV4, options: [ifName('b0')] }),
      idb({ le: false, linkType: LinkType.IPV6, options: [ifName('b1')] }),
      epb(counting(21), { le: false, iface: 1 }),
      epb(counting(22), { le: false, iface: 0 }),
    );
    expect(readAll(bytes).map((r) => [r.number, r.section, r.interfaceId, r.name, r.linkType])).toEqual([
      [1, 0, 0, 'a0', 1],
      [2, 1, 1, 'b1', 229],
      [3, 1, 0, 'b0', 228],
    ]);
  });

  test('simple and obsolete packet blocks, and unknown blocks skipped', () => {
    const bytes = concat(
      shb(),
      idb({ snap: 50 }),
      block(4, (b) => b.u16(1).u16(8).raw([10, 0, 0, 1, 0x61, 0x62, 0x63, 0]).u16(0).u16(0)), // name resolution
      spb(counting(64)), // cut to the snapshot length
      block(0x0bad, (b) => b.u32(0xdeadbeef)), // a type no one has assigned
      opb(counting(30), { hi: 0, lo: 3_000_000, options: [comment('old')] }),
      block(5, (b) => b.u32(0).u32(0).u32(0)), // interface statistics
      spb(counting(10)),
    );
    const records = readAll(bytes);
    expect(records.map((r) => [r.number, r.data.length, r.originalLength, r.seconds, r.comments])).toEqual([
      [1, 50, 64, 0, []],
      [2, 30, 30, 3, ['old']],
      [3, 10, 10, 0, []],
    ]);
    expect(records[0]!.data).toEqual([...counting(50)]);
  });

  test.for([
    { name: 'microseconds (the default)', tsresol: undefined, hi: 0, lo: 1_500_001, seconds: 1, nanoseconds: 500_001_000 },
    { name: 'milliseconds', tsresol: 3, hi: 0, lo: 2_250, seconds: 2, nanoseconds: 250_000_000 },
    { name: 'nanoseconds', tsresol: 9, hi: 0x17979cfe, lo: 0x362a0001, seconds: 1_700_000_000, nanoseconds: 1 },
    { name: '2^-20 seconds', tsresol: 0x80 | 20, hi: 0, lo: 3 * 2 ** 20 + 2 ** 19, seconds: 3, nanoseconds: 500_000_000 },
    { name: 'picoseconds', tsresol: 12, hi: 0, lo: 1_000_000_007, seconds: 0, nanoseconds: 1_000_000 },
  ])('if_tsresol: $name', ({ tsresol, hi, lo, seconds, nanoseconds }) => {
    const options = tsresol === undefined ? [] : [{ code: 9, value: Uint8Array.of(tsresol) }];
    const [record] = readAll(concat(shb(), idb({ options }), epb(counting(8), { hi, lo })));
    expect([record!.seconds, record!.nanoseconds]).toEqual([seconds, nanoseconds]);
  });

  test('if_tsoffset adds seconds; if_fcslen (bits) gives the FCS and stripFcs drops it', () => {
    const offset = new Uint8Array(8);
    new DataView(offset.buffer).setBigInt64(0, 1_000_000n, true);
    const bytes = concat(shb(), idb({ options: [{ code: 14, value: offset }, { code: 13, value: Uint8Array.of(32) }] }), epb(counting(64), { lo: 2_000_000 }));
    const reader = new CaptureReader();
    reader.push(bytes);
    const record = reader.next()!;
    expect(record.interface).toMatchObject({ fcsLength: 4, tsOffsetSeconds: 1_000_000 });
    expect([record.seconds, record.nanoseconds, record.capturedLength]).toEqual([1_000_002, 0, 64]);
    expect(readAll(bytes, { stripFcs: true })[0]!.data.length).toBe(60);
  });

  test('an interface description without options, and options without opt_endofopt', () => {
    const bytes = concat(shb(), idb(), block(6, (b) => b.u32(0).u32(0).u32(0).u32(4).u32(4).raw([1, 2, 3, 4]), { options: [comment('no end')], endOfOptions: false }));
    expect(readAll(bytes).map((r) => [r.name, r.comments])).toEqual([[undefined, ['no end']]]);
  });
});

describe('the reader', () => {
  test('exposes the format and the current section interfaces', () => {
    const reader = new CaptureReader();
    expect(reader.format).toBeUndefined();
    reader.push(concat(shb(), idb({ options: [{ code: 2, value: 'eth0' }] })));
    expect(reader.next()).toBeUndefined();
    expect(reader.format).toBe('pcapng');
    expect(reader.interfaces.map((i) => i.name)).toEqual(['eth0']);
  });

  test('records from one chunk stay intact when the next chunk is pushed in fresh memory', () => {
    const bytes = concat(pcapHeader(), pcapRecord(counting(50)), pcapRecord(counting(50, 9)));
    const reader = new CaptureReader();
    reader.push(bytes.slice(0, 24 + 66 + 20));
    const first = reader.next()!;
    expect(reader.next()).toBeUndefined();
    reader.push(bytes.slice(24 + 66 + 20));
    const second = reader.next()!;
    expect([...first.data]).toEqual([...counting(50)]);
    expect([...second.data]).toEqual([...counting(50, 9)]);
    expect(second.offset).toBe(24 + 66);
  });

  test('captureRecords yields records that stay valid, and timestampNs joins the two numbers', () => {
    const bytes = concat(pcapHeader({ nano: true }), pcapRecord(counting(4), { sec: 4_000_000_000, frac: 999_999_999 }));
    const [record] = [...captureRecords(bytes)];
    expect(timestampNs(record!)).toBe(4_000_000_000_999_999_999n);
    expect(record!.bytes).toBe(bytes);
    expect(record!.dataOffset).toBe(40);
  });
});
