// What a capture reader delivers and a capture writer takes: packet records, the interfaces they
// were captured on, link types (the tcpdump.org LINKTYPE_* registry) and timestamps.
//
// Timestamps are two numbers, whole seconds since 1970 UTC and nanoseconds within that second:
// exact at nanosecond resolution for any date (a bigint of nanoseconds would cost an allocation per
// record). `timestampNs` gives the bigint when a caller wants one.

/** LINKTYPE_* numbers the replay distinguishes (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  /** Ethernet II frames (LINKTYPE_ETHERNET). */
  ETHERNET: 1,
  /** Raw IP, version from the first nibble (LINKTYPE_RAW). */
  RAW: 101,
  /** Raw IPv4 (LINKTYPE_IPV4). */
  IPV4: 228,
  /** Raw IPv6 (LINKTYPE_IPV6). */
  IPV6: 229,
} as const;

const LINK_TYPE_NAMES: Record<number, string> = { 1: 'ethernet', 101: 'raw', 228: 'ipv4', 229: 'ipv6' };

/** A link type's short name ('ethernet', 'raw', ...), or `linktype N` for the others. */
export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `linktype ${linkType}`;
}

/** An interface packets were captured on: a pcapng interface description block, or a pcap file header. */
export interface CaptureInterface {
  /** Index within its section (the id enhanced packet blocks name); 0 in pcap. */
  readonly id: number;
  /** 0-based index of the pcapng section it belongs to; 0 in pcap. */
  readonly section: number;
  /** `if_name`, when the capture gives one. */
  readonly name: string | undefined;
  /** `if_description`, when the capture gives one. */
  readonly description: string | undefined;
  /** LINKTYPE_* of its frames (see `LinkType`). */
  readonly linkType: number;
  /** Snapshot length; 0 means no limit. */
  readonly snapLength: number;
  /** Bytes of frame check sequence at the end of each frame (`if_fcslen`, pcap's FCS bits); 0 if none or unknown. */
  readonly fcsLength: number;
  /** Timestamp units per second (`if_tsresol`; 1e6 for microsecond pcap, 1e9 for nanosecond). */
  readonly unitsPerSecond: number;
  /** `if_tsoffset`: seconds added to every timestamp. */
  readonly tsOffsetSeconds: number;
}

/** The shared empty comment list: records without comments all use it. */
export const NO_COMMENTS: readonly string[] = Object.freeze([]);

/**
 * One captured packet. `data` is a zero-copy view into the chunk that was pushed to the reader: it
 * stays valid until the caller reuses that chunk's memory (with `readCaptureFile`, until it asks for
 * the next batch). Copy it (`data.slice()`) to keep it longer.
 */
export class CaptureRecord {
  private view: Uint8Array | undefined = undefined;
  /** The interface it was captured on. */
  readonly interface: CaptureInterface;

  constructor(
    /** The buffer the packet's bytes are in (for consumers that copy without making a view). */
    readonly bytes: Uint8Array,
    /** Where the packet's bytes start in `bytes`. */
    readonly dataOffset: number,
    /** Bytes captured (the length of `data`). */
    readonly capturedLength: number,
    /** Length of the packet on the wire; larger than `capturedLength` when the capture cut it. */
    readonly originalLength: number,
    /** Timestamp: whole seconds since 1970 UTC. */
    readonly seconds: number,
    /** Timestamp: nanoseconds within the second, 0 to 999,999,999. */
    readonly nanoseconds: number,
    captureInterface: CaptureInterface,
    /** pcapng `opt_comment` values, in order; empty when there are none. */
    readonly comments: readonly string[],
    /** 1-based number of the record among the file's packet records. */
    readonly number: number,
    /** Byte offset of the record (its header or block) in the file. */
    readonly offset: number,
  ) {
    this.interface = captureInterface;
  }

  /** The direction a pcapng enhanced packet block's epb_flags give: 'in' (inbound), 'out' (outbound), or undefined when not given. */
  direction: 'in' | 'out' | undefined = undefined;

  /** The captured bytes (a view, see the class comment). */
  get data(): Uint8Array {
    return (this.view ??= this.bytes.subarray(this.dataOffset, this.dataOffset + this.capturedLength));
  }

  /** The interface's id within its section (pcapng), 0 in pcap. */
  get interfaceId(): number {
    return this.interface.id;
  }
}

/** A record's timestamp as nanoseconds since 1970 UTC. */
export function timestampNs(time: { readonly seconds: number; readonly nanoseconds: number }): bigint {
  return BigInt(time.seconds) * 1_000_000_000n + BigInt(time.nanoseconds);
}

/** A packet to write; a `CaptureRecord` is one, so records can be copied from one capture to another. */
export interface OutputPacket {
  /** The bytes to write (cut to the writer's snapshot length). */
  readonly data: Uint8Array;
  /** Timestamp: whole seconds since 1970 UTC. */
  readonly seconds: number;
  /** Timestamp: nanoseconds within the second. */
  readonly nanoseconds: number;
  /** Length on the wire; defaults to `data.length`. */
  readonly originalLength?: number;
  /** pcapng interface id (from `addInterface`); default 0. pcap ignores it. */
  readonly interfaceId?: number;
  /** pcapng `opt_comment` values (the replay writes a frame's metadata pairs here). pcap drops them. */
  readonly comments?: readonly string[];
  /** pcapng: the direction, written as epb_flags (inbound or outbound). pcap drops it. */
  readonly direction?: 'in' | 'out';
}
