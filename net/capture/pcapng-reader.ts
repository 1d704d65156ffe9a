// Decoding of pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): sections,
// each opened by a section header block that sets the byte order, interface description blocks
// numbered per section, and enhanced, simple and obsolete packet blocks. Other blocks are skipped.
import { hex32, pad4, u16, u32 } from './bytes.js';
import { exceedsSnapLength, MAX_CAPTURED_LENGTH, type CaptureDecoder, type CaptureReadOptions, type RecordLayout } from './decoder.js';
import { CaptureError } from './errors.js';
import { BlockType, BYTE_ORDER_MAGIC, EPB_INBOUND, EPB_OUTBOUND, MAX_BLOCK_LENGTH, minimumBlockLength, OptionCode, PACKET_BLOCK_DATA_OFFSET } from './pcapng-format.js';
import { type CaptureInterface, CaptureRecord, NO_COMMENTS } from './record.js';
import { type TimeParts, tsresolUnits, unitsToTime } from './timestamp.js';

const utf8 = new TextDecoder('utf-8');

/** Decodes pcapng, section by section. */
export class PcapngDecoder implements CaptureDecoder {
  readonly format = 'pcapng';
  interfaces: CaptureInterface[] = [];
  needed = 8;
  private le = true;
  private section = -1;
  private records = 0;
  private readonly time: TimeParts = { seconds: 0, nanoseconds: 0 };
  private readonly name: string;
  private readonly stripFcs: boolean;

  constructor(options: CaptureReadOptions) {
    this.name = options.name ?? 'capture';
    this.stripFcs = options.stripFcs ?? false;
  }

  decode(buf: Uint8Array, pos: number, avail: number, offset: number): CaptureRecord | null | undefined {
    if (avail < 8) {
      this.needed = 8;
      return undefined;
    }
    let le = this.le;
    const type = u32(buf, pos, le);
    if (type === BlockType.SECTION_HEADER) {
      // The section header's length is in the byte order its byte-order magic gives.
      if (avail < 12) {
        this.needed = 12;
        return undefined;
      }
      if (u32(buf, pos + 8, true) === BYTE_ORDER_MAGIC) le = true;
      else if (u32(buf, pos + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else throw this.error('capture-corrupt', offset, `section header block has byte-order magic ${hex32(u32(buf, pos + 8, true))}, not 0x1a2b3c4d in either order`);
    }
    const length = u32(buf, pos + 4, le);
    if ((length & 3) !== 0) throw this.error('capture-corrupt', offset, `block length ${length} is not a multiple of 4`);
    if (length < minimumBlockLength(type)) throw this.error('capture-corrupt', offset, `${blockName(type)} length ${length} is below its minimum of ${minimumBlockLength(type)}`);
    if (length > MAX_BLOCK_LENGTH) throw this.error('capture-corrupt', offset, `block length ${length} exceeds the maximum of ${MAX_BLOCK_LENGTH}`);
    this.needed = length;
    if (avail < length) return undefined;
    if (type === BlockType.SECTION_HEADER) {
      this.decodeSectionHeader(buf, pos, length, offset, le);
      return null;
    }
    const trailer = u32(buf, pos + length - 4, le);
    if (trailer !== length) throw this.error('capture-corrupt', offset, `block trailer says ${trailer} bytes, its header ${length}`);
    switch (type) {
      case BlockType.ENHANCED_PACKET:
        return this.decodePacket(buf, pos, length, offset, u32(buf, pos + 8, le));
      case BlockType.INTERFACE_DESCRIPTION:
        this.decodeInterface(buf, pos, length, offset);
        return null;
      case BlockType.SIMPLE_PACKET:
        return this.decodeSimplePacket(buf, pos, length, offset);
      case BlockType.PACKET:
        return this.decodePacket(buf, pos, length, offset, u16(buf, pos + 8, le));
      default:
        return null;
    }
  }

  get layout(): RecordLayout | undefined {
    const iface = this.interfaces[0];
    if (this.section < 0 || iface === undefined || this.interfaces.length !== 1) return undefined;
    return { format: 'pcapng', littleEndian: this.le, iface, fractionScale: 1, fcsStripped: this.stripFcs && iface.fcsLength > 0 };
  }

  get recordsRead(): number {
    return this.records;
  }

  skipped(records: number): void {
    this.records += records;
  }

  truncated(buf: Uint8Array, pos: number, avail: number, offset: number): CaptureError {
    const record = this.section < 0 ? 0 : this.records + 1;
    if (avail < 8) return new CaptureError('capture-truncated', this.name, record, offset, `truncated: a block header needs 8 bytes, ${avail} remain`);
    if (avail < 12 && u32(buf, pos, this.le) === BlockType.SECTION_HEADER) {
      return new CaptureError('capture-truncated', this.name, record, offset, `truncated: a section header needs 12 bytes to give its length, ${avail} remain`);
    }
    this.decode(buf, pos, avail, offset);
    return new CaptureError('capture-truncated', this.name, record, offset, `truncated: ${blockName(u32(buf, pos, this.le))} header says ${this.needed} bytes, ${avail} remain`);
  }

  private decodeSectionHeader(buf: Uint8Array, pos: number, length: number, offset: number, le: boolean): void {
    const trailer = u32(buf, pos + length - 4, le);
    if (trailer !== length) throw this.error('capture-corrupt', offset, `block trailer says ${trailer} bytes, its header ${length}`);
    const major = u16(buf, pos + 12, le);
    if (major !== 1) {
      throw this.error('capture-unsupported', offset, `pcapng version ${major}.${u16(buf, pos + 14, le)} is not supported (1.x is)`);
    }
    this.le = le;
    this.section += 1;
    this.interfaces = [];
  }

  private decodeInterface(buf: Uint8Array, pos: number, length: number, offset: number): void {
    const le = this.le;
    let name: string | undefined;
    let description: string | undefined;
    let unitsPerSecond = 1e6;
    let fcsLength = 0;
    let tsOffsetSeconds = 0;
    this.forEachOption(buf, pos, pos + 16, pos + length - 4, offset, (code, at, size) => {
      if (code === OptionCode.IF_NAME) name = utf8.decode(buf.subarray(at, at + size));
      else if (code === OptionCode.IF_DESCRIPTION) description = utf8.decode(buf.subarray(at, at + size));
      else if (code === OptionCode.IF_TSRESOL && size >= 1) {
        const units = tsresolUnits(buf[at]!);
        if (units === undefined) throw this.error('capture-unsupported', offset, `if_tsresol 0x${buf[at]!.toString(16)} is finer than this reader handles`);
        unitsPerSecond = units;
      } else if (code === OptionCode.IF_FCSLEN && size >= 1) fcsLength = buf[at]! >>> 3; // the option counts bits
      else if (code === OptionCode.IF_TSOFFSET && size >= 8) {
        const hi = u32(buf, at + (le ? 4 : 0), le) | 0;
        tsOffsetSeconds = hi * 0x1_0000_0000 + u32(buf, at + (le ? 0 : 4), le);
      }
    });
    this.interfaces.push({
      id: this.interfaces.length,
      section: this.section,
      name,
      description,
      linkType: u16(buf, pos + 8, le),
      snapLength: u32(buf, pos + 12, le),
      fcsLength,
      unitsPerSecond,
      tsOffsetSeconds,
    });
  }

  /** An enhanced or obsolete packet block: their layouts differ only in the interface id's width. */
  private decodePacket(buf: Uint8Array, pos: number, length: number, offset: number, interfaceId: number): CaptureRecord {
    const le = this.le;
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) {
      throw this.error('capture-corrupt', offset, `packet block names interface ${interfaceId}, but the section has ${this.interfaces.length}`);
    }
    let captured = u32(buf, pos + 20, le);
    let original = u32(buf, pos + 24, le);
    const dataEnd = PACKET_BLOCK_DATA_OFFSET + pad4(captured);
    if (captured > MAX_CAPTURED_LENGTH) throw this.error('capture-corrupt', offset, `captured length ${captured} exceeds the maximum of ${MAX_CAPTURED_LENGTH}`);
    if (dataEnd > length - 4) throw this.error('capture-corrupt', offset, `captured length ${captured} does not fit in a block of ${length} bytes`);
    if (exceedsSnapLength(captured, iface.snapLength)) {
      throw this.error('capture-corrupt', offset, `captured length ${captured} is far over interface ${interfaceId}'s snapshot length ${iface.snapLength}`);
    }
    let comments = NO_COMMENTS;
    let direction: 'in' | 'out' | undefined;
    if (dataEnd < length - 4) {
      this.forEachOption(buf, pos, pos + dataEnd, pos + length - 4, offset, (code, at, size) => {
        if (code === OptionCode.COMMENT) comments = [...comments, utf8.decode(buf.subarray(at, at + size))];
        else if (code === OptionCode.EPB_FLAGS && size >= 4) {
          const bits = u32(buf, at, le) & 3;
          direction = bits === EPB_INBOUND ? 'in' : bits === EPB_OUTBOUND ? 'out' : undefined;
        }
      });
    }
    const time = this.time;
    unitsToTime(u32(buf, pos + 12, le), u32(buf, pos + 16, le), iface.unitsPerSecond, time);
    if (this.stripFcs && iface.fcsLength > 0 && captured === original && captured >= iface.fcsLength) {
      captured -= iface.fcsLength;
      original -= iface.fcsLength;
    }
    const record = new CaptureRecord(buf, pos + 28, captured, original, time.seconds + iface.tsOffsetSeconds, time.nanoseconds, iface, comments, ++this.records, offset);
    record.direction = direction;
    return record;
  }

  /** A simple packet block: interface 0, no timestamp (0 is given), captured length from the snapshot length. */
  private decodeSimplePacket(buf: Uint8Array, pos: number, length: number, offset: number): CaptureRecord {
    const iface = this.interfaces[0];
    if (iface === undefined) throw this.error('capture-corrupt', offset, 'simple packet block in a section with no interface');
    let original = u32(buf, pos + 8, this.le);
    let captured = iface.snapLength > 0 ? Math.min(original, iface.snapLength) : original;
    if (12 + pad4(captured) > length - 4) throw this.error('capture-corrupt', offset, `packet length ${captured} does not fit in a block of ${length} bytes`);
    if (this.stripFcs && iface.fcsLength > 0 && captured === original && captured >= iface.fcsLength) {
      captured -= iface.fcsLength;
      original -= iface.fcsLength;
    }
    return new CaptureRecord(buf, pos + 12, captured, original, 0, 0, iface, NO_COMMENTS, ++this.records, offset);
  }

  /** Calls `visit` for each option in [start, end) until opt_endofopt; an option that overruns the block is corruption. */
  private forEachOption(buf: Uint8Array, blockPos: number, start: number, end: number, offset: number, visit: (code: number, at: number, size: number) => void): void {
    const le = this.le;
    let p = start;
    while (p < end) {
      if (p + 4 > end) throw this.error('capture-corrupt', offset, `option header at byte ${offset + p - blockPos} overruns the block`);
      const code = u16(buf, p, le);
      const size = u16(buf, p + 2, le);
      if (code === OptionCode.END_OF_OPTIONS) return;
      if (p + 4 + size > end) throw this.error('capture-corrupt', offset, `option ${code} at byte ${offset + p - blockPos} (${size} bytes) overruns the block`);
      visit(code, p + 4, size);
      p += 4 + pad4(size);
    }
  }

  private error(code: 'capture-corrupt' | 'capture-unsupported', offset: number, detail: string): CaptureError {
    return new CaptureError(code, this.name, this.section < 0 ? 0 : this.records + 1, offset, detail);
  }
}

/** A block type's name for messages. */
function blockName(type: number): string {
  switch (type) {
    case BlockType.SECTION_HEADER: return 'section header block';
    case BlockType.INTERFACE_DESCRIPTION: return 'interface description block';
    case BlockType.ENHANCED_PACKET: return 'enhanced packet block';
    case BlockType.SIMPLE_PACKET: return 'simple packet block';
    case BlockType.PACKET: return 'packet block';
    default: return `block type ${hex32(type)}`;
  }
}
