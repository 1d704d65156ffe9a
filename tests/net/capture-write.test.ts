// net/capture writers: golden bytes of small files (every field annotated), round trips through
// the readers (both formats, both byte orders, many chunkings) that give back identical data,
// lengths, timestamps, interfaces and comments, and the usage errors.
import { describe, expect, test } from 'vitest';
import { Prng } from '../../fuzz/prng.js';
import { CaptureUsageError, captureRecords, LinkType, MemorySink, PcapngWriter, PcapWriter, type OutputPacket } from '../../net/capture/index.js';
import { readChunked } from './support/read.js';

/** Bytes from hex text with spaces, newlines and `#` comments. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  return Uint8Array.from(digits.match(/../g)!.map((b) => parseInt(b, 16)));
}

const PACKET = Uint8Array.of(1, 2, 3, 4, 5);

describe('golden bytes', () => {
  test('pcap, microseconds, little-endian', () => {
    const sink = new MemorySink();
    const writer = new PcapWriter(sink);
    writer.write({ data: PACKET, seconds: 0x65536f00, nanoseconds: 123_456_789, originalLength: 60 });
    writer.close();
    expect(sink.bytes()).toEqual(hex(`
      d4 c3 b2 a1  02 00 04 00   # magic (microseconds), version 2.4
      00 00 00 00  00 00 00 00   # thiszone, sigfigs
      00 00 04 00  01 00 00 00   # snaplen 262144, LINKTYPE_ETHERNET
      00 6f 53 65  40 e2 01 00   # seconds, 123456 microseconds
      05 00 00 00  3c 00 00 00   # captured 5, original 60
      01 02 03 04  05
    `));
  });

  test('pcap, nanoseconds, big-endian, raw IP, snapshot length 4', () => {
    const sink = new MemorySink();
    const writer = new PcapWriter(sink, { precision: 'nanoseconds', littleEndian: false, linkType: LinkType.RAW, snapLength: 4 });
    writer.write({ data: PACKET, seconds: 1, nanoseconds: 123_456_789 });
    writer.close();
    expect(sink.bytes()).toEqual(hex(`
      a1 b2 3c 4d  00 02 00 04   # magic (nanoseconds), version 2.4
      00 00 00 00  00 00 00 00
      00 00 00 04  00 00 00 65   # snaplen 4, LINKTYPE_RAW
      00 00 00 01  07 5b cd 15   # 1 s, 123456789 ns
      00 00 00 04  00 00 00 05   # captured 4 (the snapshot length), original 5
      01 02 03 04
    `));
  });

  test('pcapng: section, one named interface, a packet with a comment', () => {
    const sink = new MemorySink();
    const writer = new PcapngWriter(sink, { interfaces: [{ name: 'eth0' }] });
    writer.write({ data: PACKET, seconds: 1, nanoseconds: 5, comments: ['k=v'] });
    writer.close();
    expect(sink.bytes()).toEqual(hex(`
      0a 0d 0d 0a  30 00 00 00   # section header block, 48 bytes
      4d 3c 2b 1a  01 00 00 00   # byte-order magic, version 1.0
      ff ff ff ff  ff ff ff ff   # section length: not given
      04 00 09 00  65 62 70 66 2d 77 61 73 6d 00 00 00   # shb_userappl 'ebpf-wasm'
      00 00 00 00  30 00 00 00   # opt_endofopt, trailer
      01 00 00 00  28 00 00 00   # interface description block, 40 bytes
      01 00 00 00  00 00 04 00   # LINKTYPE_ETHERNET, reserved, snaplen 262144
      02 00 04 00  65 74 68 30   # if_name 'eth0'
      09 00 01 00  09 00 00 00   # if_tsresol 10^-9
      00 00 00 00  28 00 00 00   # opt_endofopt, trailer
      06 00 00 00  34 00 00 00   # enhanced packet block, 52 bytes
      00 00 00 00                # interface 0
      00 00 00 00  05 ca 9a 3b   # timestamp 1,000,000,005 ns (high, low)
      05 00 00 00  05 00 00 00   # captured 5, original 5
      01 02 03 04  05 00 00 00   # data, padded
      01 00 03 00  6b 3d 76 00   # opt_comment 'k=v'
      00 00 00 00  34 00 00 00   # opt_endofopt, trailer
    `));
  });
});

/** Random packets with timestamps, interfaces and comments. */
function packets(seed: number, count: number, interfaces: number): OutputPacket[] {
  const rng = new Prng(seed);
  const comments = ['', 'meta.mark=7', 'ünïcödé ✓ 🚀', 'x'.repeat(300)];
  return Array.from({ length: count }, () => {
    const data = rng.bytes(rng.chance(0.05) ? rng.int(1500, 9000) : rng.int(0, 200));
    const n = rng.int(0, 2);
    return {
      data,
      seconds: rng.chance(0.1) ? rng.pick([0, 0xffffffff]) : rng.int(1_000_000_000, 2_000_000_000),
      nanoseconds: rng.chance(0.1) ? rng.pick([0, 999_999_999]) : rng.int(0, 999_999_999),
      originalLength: rng.chance(0.2) ? data.length + rng.int(0, 100) : data.length,
      interfaceId: rng.below(interfaces),
      comments: Array.from({ length: n }, () => rng.pick(comments)),
    };
  });
}

describe('round trips', () => {
  test.for([
    { name: 'pcap, nanoseconds, little-endian', format: 'pcap', littleEndian: true, precision: 'nanoseconds' },
    { name: 'pcap, nanoseconds, big-endian', format: 'pcap', littleEndian: false, precision: 'nanoseconds' },
    { name: 'pcap, microseconds, little-endian', format: 'pcap', littleEndian: true, precision: 'microseconds' },
    { name: 'pcapng, little-endian', format: 'pcapng', littleEndian: true },
    { name: 'pcapng, big-endian', format: 'pcapng', littleEndian: false },
  ] as const)('$name', (c) => {
    const names = ['wan0', 'be1', 'lo'];
    const input = packets(c.littleEndian ? 1 : 2, 250, c.format === 'pcap' ? 1 : names.length);
    for (const chunkSize of [64, 4096, 1 << 20]) {
      const sink = new MemorySink();
      const writer = c.format === 'pcap'
        ? new PcapWriter(sink, { littleEndian: c.littleEndian, precision: c.precision, chunkSize })
        : new PcapngWriter(sink, { littleEndian: c.littleEndian, chunkSize, interfaces: names.map((name, i) => ({ name, linkType: [1, 101, 229][i] })) });
      for (const p of input) writer.write(p);
      writer.close();
      expect(writer.packets).toBe(input.length);
      const bytes = sink.bytes();
      const expected = input.map((p) => ({
        data: [...p.data],
        originalLength: p.originalLength,
        seconds: p.seconds,
        nanoseconds: c.format === 'pcap' && c.precision === 'microseconds' ? p.nanoseconds - (p.nanoseconds % 1000) : p.nanoseconds,
        interfaceId: p.interfaceId! % (c.format === 'pcap' ? 1 : 3),
        name: c.format === 'pcap' ? undefined : names[p.interfaceId!],
        linkType: c.format === 'pcap' ? 1 : [1, 101, 229][p.interfaceId!],
        comments: c.format === 'pcap' ? [] : p.comments,
      }));
      for (const chunk of [bytes.length, 7, 1000]) {
        const { records, error } = readChunked(bytes, chunk);
        expect(error).toBeUndefined();
        expect(records.map(({ number, offset, section, ...rest }) => rest)).toEqual(expected);
      }
    }
  });

  test('a record read back can be written again byte for byte', () => {
    const sink = new MemorySink();
    const writer = new PcapngWriter(sink, { interfaces: [{ name: 'a' }, { name: 'b' }] });
    for (const p of packets(3, 50, 2)) writer.write(p);
    writer.close();
    const first = sink.bytes();
    const again = new MemorySink();
    const copier = new PcapngWriter(again, { interfaces: [{ name: 'a' }, { name: 'b' }] });
    for (const record of captureRecords(first)) copier.write(record);
    copier.close();
    expect(again.bytes()).toEqual(first);
  });

  test('packets over the snapshot length are cut, with their original length kept', () => {
    const sink = new MemorySink();
    const writer = new PcapngWriter(sink, { interfaces: [{ snapLength: 64 }] });
    writer.write({ data: new Uint8Array(200).fill(7), seconds: 0, nanoseconds: 0 });
    writer.close();
    const [record] = [...captureRecords(sink.bytes())];
    expect([record!.capturedLength, record!.originalLength, record!.interface.snapLength]).toEqual([64, 200, 64]);
  });

  test('pcapng interfaces added after packets are described before theirs', () => {
    const sink = new MemorySink();
    const writer = new PcapngWriter(sink, { interfaces: [] });
    const a = writer.addInterface({ name: 'first', description: 'the first one' });
    writer.write({ data: PACKET, seconds: 1, nanoseconds: 0, interfaceId: a });
    const b = writer.addInterface({ name: 'second', linkType: LinkType.IPV4 });
    writer.write({ data: PACKET, seconds: 2, nanoseconds: 0, interfaceId: b });
    writer.close();
    expect([...captureRecords(sink.bytes())].map((r) => [r.interface.name, r.interface.description, r.interface.linkType])).toEqual([
      ['first', 'the first one', 1],
      ['second', undefined, 228],
    ]);
  });
});

describe('usage errors', () => {
  test.for([
    { name: 'seconds below 0', packet: { seconds: -1, nanoseconds: 0 } },
    { name: 'seconds past 32 bits', packet: { seconds: 2 ** 32, nanoseconds: 0 } },
    { name: 'fractional seconds', packet: { seconds: 1.5, nanoseconds: 0 } },
    { name: 'a whole second of nanoseconds', packet: { seconds: 1, nanoseconds: 1e9 } },
    { name: 'an interface not described', packet: { seconds: 1, nanoseconds: 0, interfaceId: 1 } },
    { name: 'a comment over 65535 bytes of UTF-8', packet: { seconds: 1, nanoseconds: 0, comments: ['é'.repeat(40_000)] } },
  ])('$name is refused, and leaves no half-written block', ({ packet }) => {
    const sink = new MemorySink();
    const writer = new PcapngWriter(sink);
    expect(() => writer.write({ data: PACKET, ...packet })).toThrow(CaptureUsageError);
    writer.write({ data: PACKET, seconds: 3, nanoseconds: 0 });
    writer.close();
    expect([...captureRecords(sink.bytes())].map((r) => r.seconds)).toEqual([3]);
  });

  test('writing after close or abort is refused; abort discards the capture', () => {
    const closed = new PcapWriter(new MemorySink());
    closed.close();
    expect(() => closed.write({ data: PACKET, seconds: 0, nanoseconds: 0 })).toThrow(CaptureUsageError);
    const sink = new MemorySink();
    const aborted = new PcapWriter(sink, { chunkSize: 16 });
    aborted.write({ data: PACKET, seconds: 0, nanoseconds: 0 });
    aborted.abort();
    expect(sink.state).toBe('aborted');
    expect(sink.bytes().length).toBe(0);
    expect(() => aborted.write({ data: PACKET, seconds: 0, nanoseconds: 0 })).toThrow(CaptureUsageError);
  });
});
