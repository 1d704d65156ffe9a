// Malformed frames, each wrong in exactly one way a parser must survive: an IPv4 header cut short,
// an impossible header length, a total length that disagrees with the frame, a runt Ethernet frame.
import { buildPacket, foldChecksum, onesSum, type PacketFields } from '../packets.js';

/** The ways a generated frame can be malformed. */
export const MALFORMED_VARIANTS = ['truncated-ip', 'bad-ihl', 'bogus-total-length', 'runt'] as const;

/** One of `MALFORMED_VARIANTS`. */
export type MalformedVariant = (typeof MALFORMED_VARIANTS)[number];

/** A UDP-over-IPv4 frame from `fields`, broken as `variant` says. */
export function malformedFrame(variant: MalformedVariant, fields: PacketFields): Uint8Array {
  const frame = buildPacket({ ...fields, ipVersion: 4, proto: 'udp' });
  const l3 = 14 + 4 * (fields.vlans?.length ?? 0);
  switch (variant) {
    case 'truncated-ip':
      // The frame ends 10 bytes into the 20-byte IPv4 header.
      return frame.slice(0, l3 + 10);
    case 'bad-ihl':
      // IHL 3: a header shorter than the 5-word minimum. The checksum is recomputed, so only the IHL is wrong.
      frame[l3] = 0x43;
      return rechecksum(frame, l3);
    case 'bogus-total-length':
      // Total length 1000 bytes past the frame's end.
      frame[l3 + 2] = (frame.length - l3 + 1000) >>> 8;
      frame[l3 + 3] = (frame.length - l3 + 1000) & 0xff;
      return rechecksum(frame, l3);
    case 'runt':
      // 10 bytes: less than an Ethernet header.
      return frame.slice(0, 10);
  }
}

/** Recomputes the IPv4 header checksum at `l3` over 20 bytes. */
function rechecksum(frame: Uint8Array, l3: number): Uint8Array {
  frame[l3 + 10] = 0;
  frame[l3 + 11] = 0;
  const checksum = foldChecksum(onesSum(frame, l3, l3 + 20));
  frame[l3 + 10] = checksum >>> 8;
  frame[l3 + 11] = checksum & 0xff;
  return frame;
}
