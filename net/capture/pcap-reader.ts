// Decoding of the classic libpcap format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html):
// a 24-byte file header whose magic gives the byte order and the timestamp precision, then records
// of a 16-byte header and the captured bytes.
import { u16, u32 } from './bytes.js';
import { exceedsSnapLength, MAX_CAPTURED_LENGTH, type CaptureDecoder, type CaptureReadOptions, type RecordLayout } from './decoder.js';
import { CaptureError } from './errors.js';
import { type CaptureInterface, CaptureRecord, NO_COMMENTS } from './record.js';

/** Magic of a microsecond pcap, as read in the writer's byte order. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** Magic of a nanosecond pcap. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** Length of the pcap file header. */
export const PCAP_FILE_HEADER_LENGTH = 24;
/** Length of a pcap record header. */
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Modified pcap (Alexey Kuznetzov's patches): a longer record header nobody writes any more. */
const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

/** Decodes pcap; `le` and the timestamp scale come from the magic. */
export class PcapDecoder implements CaptureDecoder {
  readonly format = 'pcap';
  interfaces: readonly CaptureInterface[] = [];
  needed = PCAP_FILE_HEADER_LENGTH;
  private headerDone = false;
  private iface!: CaptureInterface;
  private readonly le: boolean;
  /** Nanoseconds per fraction unit: 1000 for microsecond files, 1 for nanosecond ones. */
  private readonly fractionScale: number;
  private records = 0;
  private readonly name: string;
  private readonly stripFcs: boolean;

  constructor(magicLittleEndian: number, options: CaptureReadOptions) {
    this.name = options.name ?? 'capture';
    this.stripFcs = options.stripFcs ?? false;
    this.le = magicLittleEndian === PCAP_MAGIC_MICROSECONDS || magicLittleEndian === PCAP_MAGIC_NANOSECONDS;
    const magic = this.le ? magicLittleEndian : swap32(magicLittleEndian);
    this.fractionScale = magic === PCAP_MAGIC_NANOSECONDS ? 1 : 1000;
  }

  /** Whether a magic read little-endian starts a pcap file this decoder reads (either byte order). */
  static recognises(magicLittleEndian: number): boolean {
    return [PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS].some((m) => magicLittleEndian === m || magicLittleEndian === swap32(m));
  }

  /** Whether the magic is one of a pcap variant this reader refuses (modified pcap). */
  static isUnsupportedVariant(magicLittleEndian: number): boolean {
    return magicLittleEndian === PCAP_MAGIC_KUZNETZOV || magicLittleEndian === swap32(PCAP_MAGIC_KUZNETZOV);
  }

  decode(buf: Uint8Array, pos: number, avail: number, offset: number): CaptureRecord | null | undefined {
    if (!this.headerDone) {
      this.needed = PCAP_FILE_HEADER_LENGTH;
      if (avail < PCAP_FILE_HEADER_LENGTH) return undefined;
      this.decodeFileHeader(buf, pos);
      return null;
    }
    if (avail < PCAP_RECORD_HEADER_LENGTH) {
      this.needed = PCAP_RECORD_HEADER_LENGTH;
      return undefined;
    }
    const le = this.le;
    let captured = u32(buf, pos + 8, le);
    if (captured > MAX_CAPTURED_LENGTH) {
      throw this.corrupt(offset, `captured length ${captured} exceeds the maximum of ${MAX_CAPTURED_LENGTH}`);
    }
    const iface = this.iface;
    if (exceedsSnapLength(captured, iface.snapLength)) {
      throw this.corrupt(offset, `captured length ${captured} is far over the snapshot length ${iface.snapLength}`);
    }
    const length = PCAP_RECORD_HEADER_LENGTH + captured;
    this.needed = length;
    if (avail < length) return undefined;
    let seconds = u32(buf, pos, le);
    let nanoseconds = u32(buf, pos + 4, le) * this.fractionScale;
    if (nanoseconds >= 1_000_000_000) {
      // Out-of-range fractions occur in the wild; carry them into the seconds rather than refuse.
      seconds += Math.floor(nanoseconds / 1_000_000_000);
      nanoseconds %= 1_000_000_000;
    }
    let original = u32(buf, pos + 12, le);
    if (this.stripFcs && iface.fcsLength > 0 && captured === original && captured >= iface.fcsLength) {
      captured -= iface.fcsLength;
      original -= iface.fcsLength;
    }
    return new CaptureRecord(buf, pos + PCAP_RECORD_HEADER_LENGTH, captured, original, seconds, nanoseconds, iface, NO_COMMENTS, ++this.records, offset);
  }

  get layout(): RecordLayout | undefined {
    const iface = this.iface;
    if (!this.headerDone || iface === undefined) return undefined;
    return { format: 'pcap', littleEndian: this.le, iface, fractionScale: this.fractionScale, fcsStripped: this.stripFcs && iface.fcsLength > 0 };
  }

  get recordsRead(): number {
    return this.records;
  }

  skipped(records: number): void {
    this.records += records;
  }

  truncated(buf: Uint8Array, pos: number, avail: number, offset: number): CaptureError {
    if (!this.headerDone) {
      return new CaptureError('capture-truncated', this.name, 0, offset, `truncated: the file header needs ${PCAP_FILE_HEADER_LENGTH} bytes, ${avail} remain`);
    }
    if (avail < PCAP_RECORD_HEADER_LENGTH) {
      return new CaptureError('capture-truncated', this.name, this.records + 1, offset, `truncated: the record header needs ${PCAP_RECORD_HEADER_LENGTH} bytes, ${avail} remain`);
    }
    const captured = u32(buf, pos + 8, this.le);
    return new CaptureError('capture-truncated', this.name, this.records + 1, offset, `truncated: header says ${captured} bytes, ${avail - PCAP_RECORD_HEADER_LENGTH} remain`);
  }

  private decodeFileHeader(buf: Uint8Array, pos: number): void {
    const le = this.le;
    const major = u16(buf, pos + 4, le);
    const minor = u16(buf, pos + 6, le);
    if (major !== 2) {
      throw new CaptureError('capture-unsupported', this.name, 0, 0, `pcap version ${major}.${minor} is not supported (2.x is)`);
    }
    const snapLength = u32(buf, pos + 16, le);
    const linkField = u32(buf, pos + 20, le);
    // libpcap's LT_FCS_LENGTH_PRESENT and LT_FCS_LENGTH: the FCS length in 16-bit words, top nibble.
    const fcsLength = linkField & 0x04000000 ? (linkField >>> 28) * 2 : 0;
    this.iface = {
      id: 0,
      section: 0,
      name: undefined,
      description: undefined,
      linkType: linkField & 0xffff,
      snapLength,
      fcsLength,
      unitsPerSecond: this.fractionScale === 1 ? 1e9 : 1e6,
      tsOffsetSeconds: 0,
    };
    this.interfaces = [this.iface];
    this.headerDone = true;
  }

  private corrupt(offset: number, detail: string): CaptureError {
    return new CaptureError('capture-corrupt', this.name, this.records + 1, offset, detail);
  }
}

/** `n` with its four bytes reversed. */
export function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}
