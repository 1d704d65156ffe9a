// Numbers of the pcapng format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html)
// that the reader and the writer share: block types, option codes, fixed lengths.

/** Block types. */
export const BlockType = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  /** Obsolete packet block, superseded by the enhanced packet block. */
  PACKET: 0x00000002,
  SIMPLE_PACKET: 0x00000003,
  ENHANCED_PACKET: 0x00000006,
} as const;

/** The section header's byte-order magic, as written in the writer's order. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Option codes. */
export const OptionCode = {
  END_OF_OPTIONS: 0,
  COMMENT: 1,
  SHB_USER_APPLICATION: 4,
  IF_NAME: 2,
  IF_DESCRIPTION: 3,
  IF_TSRESOL: 9,
  IF_FCSLEN: 13,
  IF_TSOFFSET: 14,
  /** epb_flags (a u32; bits 0-1: direction, 1 inbound, 2 outbound). Same code as if_name: option codes are per block type. */
  EPB_FLAGS: 2,
} as const;

/** Where an enhanced (or obsolete) packet block's packet data starts: its header and fixed fields. */
export const PACKET_BLOCK_DATA_OFFSET = 28;

/** epb_flags direction values. */
export const EPB_INBOUND = 1;
export const EPB_OUTBOUND = 2;

/** The smallest valid length of a block of `type`: header, fixed fields and trailer. */
export function minimumBlockLength(type: number): number {
  switch (type) {
    case BlockType.ENHANCED_PACKET:
    case BlockType.PACKET:
      return 32;
    case BlockType.SECTION_HEADER:
      return 28;
    case BlockType.INTERFACE_DESCRIPTION:
      return 20;
    case BlockType.SIMPLE_PACKET:
      return 16;
    default:
      return 12;
  }
}

/** The largest block the reader accepts: no valid packet block comes near it, and it bounds buffering. */
export const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
