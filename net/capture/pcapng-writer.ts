// Writing pcapng: one section header block (naming this library as the application), an interface
// description block per interface (`if_name`, nanosecond `if_tsresol`), and an enhanced packet
// block per packet with its comments as `opt_comment` options.
import { pad4 } from './bytes.js';
import { CaptureUsageError } from './errors.js';
import { MAX_CAPTURED_LENGTH } from './decoder.js';
import { BlockType, BYTE_ORDER_MAGIC, EPB_INBOUND, EPB_OUTBOUND, OptionCode } from './pcapng-format.js';
import { LinkType, type OutputPacket } from './record.js';
import type { CaptureSink } from './sink.js';
import { nanosecondUnits } from './timestamp.js';
import { BufferedCaptureWriter, checkTimestamp, type CaptureWriterOptions } from './writer.js';

/** An interface to describe in a pcapng file. */
export interface InterfaceSpec {
  /** `if_name`; the replay feeds a topology's interface of this name. */
  readonly name?: string;
  /** `if_description`. */
  readonly description?: string;
  /** LINKTYPE_* of its packets; default Ethernet. */
  readonly linkType?: number;
  /** Longest packet kept; longer ones are cut. Default 262144. */
  readonly snapLength?: number;
}

/** Options of a pcapng writer. */
export interface PcapngWriterOptions extends CaptureWriterOptions {
  /** Interfaces described up front, ids 0, 1, ... in order; more with `addInterface`. Default: one unnamed Ethernet interface. */
  readonly interfaces?: readonly InterfaceSpec[];
  /** `shb_userappl`; default 'ebpf-wasm'. */
  readonly application?: string;
}

const encoder = new TextEncoder();
/** Room for one option's header and the UTF-8 of a string (at most 3 bytes per UTF-16 unit), padded. */
const stringOptionRoom = (text: string) => 4 + pad4(text.length * 3);

/** Throws unless `text`'s UTF-8 fits one option (65535 bytes). */
function checkOptionText(text: string, what: string): void {
  if (text.length > 0xffff / 3 && encoder.encode(text).length > 0xffff) {
    throw new CaptureUsageError(`${what} has ${encoder.encode(text).length} bytes of UTF-8; a pcapng option holds at most 65535`);
  }
}

/** Writes a pcapng file to a sink. */
export class PcapngWriter extends BufferedCaptureWriter {
  readonly format = 'pcapng';
  private readonly snapLengths: number[] = [];
  private readonly time: [number, number] = [0, 0];

  constructor(sink: CaptureSink, options: PcapngWriterOptions = {}) {
    super(sink, options);
    const application = options.application ?? 'ebpf-wasm';
    checkOptionText(application, 'shb_userappl');
    this.writeSectionHeader(application);
    for (const spec of options.interfaces ?? [{}]) this.addInterface(spec);
  }

  /** Describes one more interface; returns its id for `OutputPacket.interfaceId`. */
  addInterface(spec: InterfaceSpec = {}): number {
    if (spec.name) checkOptionText(spec.name, 'if_name');
    if (spec.description) checkOptionText(spec.description, 'if_description');
    const snapLength = spec.snapLength ?? MAX_CAPTURED_LENGTH;
    const room = 20 + (spec.name ? stringOptionRoom(spec.name) : 0) + (spec.description ? stringOptionRoom(spec.description) : 0) + 8 + 4;
    const at = this.begin(BlockType.INTERFACE_DESCRIPTION, room);
    const v = this.out.view;
    v.setUint16(at + 8, spec.linkType ?? LinkType.ETHERNET, this.le);
    v.setUint16(at + 10, 0, this.le);
    v.setUint32(at + 12, snapLength, this.le);
    this.out.pos = at + 16;
    if (spec.name) this.stringOption(OptionCode.IF_NAME, spec.name);
    if (spec.description) this.stringOption(OptionCode.IF_DESCRIPTION, spec.description);
    this.optionHeader(OptionCode.IF_TSRESOL, 1);
    this.out.bytes.fill(0, this.out.pos, this.out.pos + 4);
    this.out.bytes[this.out.pos] = 9; // 10^-9: nanoseconds
    this.out.pos += 4;
    this.optionHeader(OptionCode.END_OF_OPTIONS, 0);
    this.finish(at);
    this.snapLengths.push(snapLength);
    return this.snapLengths.length - 1;
  }

  write(packet: OutputPacket): void {
    checkTimestamp(packet);
    const interfaceId = packet.interfaceId ?? 0;
    const snapLength = this.snapLengths[interfaceId];
    if (snapLength === undefined) throw new CaptureUsageError(`packet names interface ${interfaceId}, but ${this.snapLengths.length} are described`);
    const data = packet.data;
    const captured = Math.min(data.length, snapLength);
    const original = Math.max(packet.originalLength ?? data.length, captured);
    const comments = packet.comments;
    const direction = packet.direction;
    const hasOptions = (comments !== undefined && comments.length > 0) || direction !== undefined;
    let room = 32 + pad4(captured);
    if (hasOptions) {
      for (const comment of comments ?? []) {
        // Checked before the block is begun, so that a refused packet leaves no half-written block.
        checkOptionText(comment, `packet ${this.packets + 1}'s comment`);
        room += stringOptionRoom(comment);
      }
      room += 4 + (direction !== undefined ? 8 : 0);
    }
    const at = this.begin(BlockType.ENHANCED_PACKET, room);
    const out = this.out;
    const v = out.view;
    const le = this.le;
    const time = this.time;
    nanosecondUnits(packet.seconds, packet.nanoseconds, time);
    v.setUint32(at + 8, interfaceId, le);
    v.setUint32(at + 12, time[0], le);
    v.setUint32(at + 16, time[1], le);
    v.setUint32(at + 20, captured, le);
    v.setUint32(at + 24, original, le);
    const padded = pad4(captured);
    out.copy(data, captured, at + 28, padded);
    out.pos = at + 28 + padded;
    if (hasOptions) {
      for (const comment of comments ?? []) this.stringOption(OptionCode.COMMENT, comment);
      if (direction !== undefined) {
        this.optionHeader(OptionCode.EPB_FLAGS, 4);
        v.setUint32(out.pos, direction === 'in' ? EPB_INBOUND : EPB_OUTBOUND, le);
        out.pos += 4;
      }
      this.optionHeader(OptionCode.END_OF_OPTIONS, 0);
    }
    this.finish(at);
    this.packets++;
  }

  private writeSectionHeader(application: string): void {
    const at = this.begin(BlockType.SECTION_HEADER, 24 + stringOptionRoom(application) + 4 + 4);
    const v = this.out.view;
    v.setUint32(at + 8, BYTE_ORDER_MAGIC, this.le);
    v.setUint16(at + 12, 1, this.le);
    v.setUint16(at + 14, 0, this.le);
    v.setInt32(at + 16, -1, this.le); // section length: not given
    v.setInt32(at + 20, -1, this.le);
    this.out.pos = at + 24;
    this.stringOption(OptionCode.SHB_USER_APPLICATION, application);
    this.optionHeader(OptionCode.END_OF_OPTIONS, 0);
    this.finish(at);
  }

  /** Reserves `room` bytes (an upper bound of the block) and writes the block type; returns where the block starts. */
  private begin(type: number, room: number): number {
    this.out.reserve(room);
    const at = this.out.pos;
    this.out.view.setUint32(at, type, this.le);
    return at;
  }

  /** Writes the block's trailer and its length at both ends. */
  private finish(at: number): void {
    const out = this.out;
    const length = out.pos + 4 - at;
    out.view.setUint32(at + 4, length, this.le);
    out.view.setUint32(out.pos, length, this.le);
    out.pos += 4;
  }

  private optionHeader(code: number, length: number): void {
    const v = this.out.view;
    v.setUint16(this.out.pos, code, this.le);
    v.setUint16(this.out.pos + 2, length, this.le);
    this.out.pos += 4;
  }

  /** An option holding UTF-8 text, zero-padded to 32 bits. */
  private stringOption(code: number, text: string): void {
    const out = this.out;
    const valueAt = out.pos + 4;
    const { written } = encoder.encodeInto(text, out.bytes.subarray(valueAt, valueAt + text.length * 3));
    this.optionHeader(code, written);
    const padded = pad4(written);
    out.bytes.fill(0, valueAt + written, valueAt + padded);
    out.pos = valueAt + padded;
  }
}
