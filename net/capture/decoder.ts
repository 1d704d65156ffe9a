// The contract between the streaming reader and one capture format: the format cuts the byte
// stream into units (file header, records, blocks), says how long each is from its first bytes,
// and decodes a complete one; the reader owns buffering. Also the length limits both formats apply.
import type { CaptureError } from './errors.js';
import type { CaptureInterface, CaptureRecord } from './record.js';

/** Options every reader takes. */
export interface CaptureReadOptions {
  /** The name errors give the input (a file name); default `capture`. */
  readonly name?: string;
  /** Drop the frame check sequence from frames of interfaces that declare one (`if_fcslen`, pcap FCS bits). */
  readonly stripFcs?: boolean;
}

/** One capture format's decoding, driven by `CaptureReader`. */
export interface CaptureDecoder {
  /** 'pcap' or 'pcapng'. */
  readonly format: 'pcap' | 'pcapng';
  /**
   * Decodes the unit (file header, record, block) at `pos` of which `avail` bytes are present: its
   * packet record, or null for a unit without one (headers, skipped blocks); undefined when those
   * bytes do not hold the whole unit. Either way `needed` is then the unit's length, or, when the
   * bytes present do not tell it yet, the bytes needed to tell. Throws a `CaptureError` for a
   * length that cannot be right or a unit that is corrupt. `offset` is `pos`'s offset in the file.
   * One call per unit (rather than a length call and a decode call) keeps reading cheap.
   */
  decode(buf: Uint8Array, pos: number, avail: number, offset: number): CaptureRecord | null | undefined;
  /** See `decode`. */
  readonly needed: number;
  /** The error for input that ends after `avail` bytes of the unit at `pos`. */
  truncated(buf: Uint8Array, pos: number, avail: number, offset: number): CaptureError;
  /** The interfaces of the current section, in id order. */
  readonly interfaces: readonly CaptureInterface[];
  /**
   * How the records ahead read, for a caller that decodes whole records itself (the replay lane):
   * undefined where this decoder cannot say (before a header, a pcapng section of several interfaces).
   */
  readonly layout: RecordLayout | undefined;
  /** Counts records a caller decoded itself: the numbers of the records after them follow on. */
  skipped(records: number): void;
  /** Records decoded so far (the next one's number is one more). */
  readonly recordsRead: number;
}

/** How a capture's records read, for a caller that decodes whole records itself. */
export interface RecordLayout {
  readonly format: 'pcap' | 'pcapng';
  readonly littleEndian: boolean;
  /** The interface the records are on (pcapng: the section's only one). */
  readonly iface: CaptureInterface;
  /** pcap: nanoseconds per unit of a timestamp's fraction, 1000 (microsecond files) or 1. */
  readonly fractionScale: number;
  /** The reader strips a frame check sequence from each frame (so the records are not the bytes as they are). */
  readonly fcsStripped: boolean;
}

/** The largest captured length a record may have (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPTURED_LENGTH = 262144;

/**
 * Whether a captured length is too far over the snapshot length to be anything but corruption.
 * libpcap reads such records and cuts them; writers that exceed the snapshot length do so by a few
 * bytes (a VLAN tag, a trailer), so half again is the bound.
 */
export function exceedsSnapLength(capturedLength: number, snapLength: number): boolean {
  return snapLength > 0 && capturedLength > snapLength + (snapLength >>> 1) + 64;
}
