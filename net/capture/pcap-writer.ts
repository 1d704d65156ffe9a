// Writing the classic pcap format: the 24-byte file header, then a 16-byte header and the bytes of
// each packet, with microsecond or nanosecond timestamps.
import { MAX_CAPTURED_LENGTH } from './decoder.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS, PCAP_RECORD_HEADER_LENGTH } from './pcap-reader.js';
import { LinkType, type OutputPacket } from './record.js';
import type { CaptureSink } from './sink.js';
import { BufferedCaptureWriter, checkTimestamp, type CaptureWriterOptions } from './writer.js';

/** Options of a pcap writer. */
export interface PcapWriterOptions extends CaptureWriterOptions {
  /** LINKTYPE_* of every packet; default Ethernet. */
  readonly linkType?: number;
  /** Longest packet kept; longer ones are cut. Default 262144. */
  readonly snapLength?: number;
  /** Timestamp precision: 'microseconds' (default, the classic format every reader knows) or 'nanoseconds'. */
  readonly precision?: 'microseconds' | 'nanoseconds';
}

/** Writes a pcap file to a sink. */
export class PcapWriter extends BufferedCaptureWriter {
  readonly format = 'pcap';
  private readonly nanosecondsPerUnit: number;
  private readonly snapLength: number;

  constructor(sink: CaptureSink, options: PcapWriterOptions = {}) {
    super(sink, options);
    this.nanosecondsPerUnit = options.precision === 'nanoseconds' ? 1 : 1000;
    this.snapLength = options.snapLength ?? MAX_CAPTURED_LENGTH;
    const out = this.out;
    out.reserve(PCAP_FILE_HEADER_LENGTH);
    const v = out.view;
    v.setUint32(0, this.nanosecondsPerUnit === 1 ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, this.le);
    v.setUint16(4, 2, this.le);
    v.setUint16(6, 4, this.le);
    v.setUint32(8, 0, this.le); // thiszone: timestamps are UTC
    v.setUint32(12, 0, this.le); // sigfigs
    v.setUint32(16, this.snapLength, this.le);
    v.setUint32(20, options.linkType ?? LinkType.ETHERNET, this.le);
    out.pos = PCAP_FILE_HEADER_LENGTH;
  }

  write(packet: OutputPacket): void {
    checkTimestamp(packet);
    const data = packet.data;
    const captured = Math.min(data.length, this.snapLength);
    const original = Math.max(packet.originalLength ?? data.length, captured);
    const out = this.out;
    out.reserve(PCAP_RECORD_HEADER_LENGTH + captured);
    const v = out.view;
    const at = out.pos;
    const le = this.le;
    v.setUint32(at, packet.seconds, le);
    v.setUint32(at + 4, Math.floor(packet.nanoseconds / this.nanosecondsPerUnit), le);
    v.setUint32(at + 8, captured, le);
    v.setUint32(at + 12, original, le);
    out.copy(data, captured, at + PCAP_RECORD_HEADER_LENGTH);
    out.pos = at + PCAP_RECORD_HEADER_LENGTH + captured;
    this.packets++;
  }
}
