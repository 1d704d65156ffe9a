// Frames of the link types captures come in, as the Ethernet frames an interface hands XDP: raw IP
// (LINKTYPE_RAW, IPV4, IPV6) gets an Ethernet header addressed to the interface; Linux cooked
// captures (LINKTYPE_LINUX_SLL and SLL2, what `tcpdump -i any` writes) get one built from their
// header, whose packet type also says which way the frame went (https://www.tcpdump.org/linktypes.html).
import type { Netdev } from '../runtime/netdev.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;
/** sll_pkttype values (linux/if_packet.h). */
const PACKET_BROADCAST = 1;
const PACKET_OUTGOING = 4;
const ARPHRD_ETHER = 1;

/** An Ethernet frame, and the direction its capture recorded, if it did. */
export interface EthernetFrame {
  readonly data: Uint8Array;
  readonly direction?: 'in' | 'out';
}

function ethernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(14 + payload.length);
  out.set(dst);
  out.set(src, 6);
  out[12] = etherType >> 8;
  out[13] = etherType & 0xff;
  out.set(payload, 14);
  return out;
}

const ZERO_MAC = new Uint8Array(6);
const BROADCAST_MAC = new Uint8Array(6).fill(0xff);

/** Whether frames of a link type are Ethernet frames already (no conversion, no allocation). */
export function isEthernet(linkType: number): boolean {
  return linkType === LINKTYPE_ETHERNET;
}

/** A frame of `linkType` as an Ethernet frame on `dev`; undefined for link types that have no such reading. */
export function toEthernet(data: Uint8Array, linkType: number, dev: Netdev): EthernetFrame | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return { data };
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      const v6 = linkType === LINKTYPE_IPV6 || (linkType === LINKTYPE_RAW && data.length > 0 && data[0]! >> 4 === 6);
      return { data: ethernet(dev.mac, ZERO_MAC, v6 ? 0x86dd : 0x0800, data) };
    }
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_LINUX_SLL2: {
      const sll2 = linkType === LINKTYPE_LINUX_SLL2;
      const header = sll2 ? 20 : 16;
      if (data.length < header) return { data: ethernet(dev.mac, ZERO_MAC, 0, data.subarray(0, 0)) };
      const be16 = (at: number) => (data[at]! << 8) | data[at + 1]!;
      const packetType = sll2 ? data[10]! : be16(0);
      const hardwareType = sll2 ? be16(8) : be16(2);
      const addressLength = sll2 ? data[11]! : be16(4);
      const address = data.subarray(sll2 ? 12 : 6, (sll2 ? 12 : 6) + Math.min(addressLength, 8));
      const protocol = sll2 ? be16(0) : be16(14);
      // The cooked header keeps the sender's address; the receiver's follows from the packet type.
      const sender = hardwareType === ARPHRD_ETHER && address.length === 6 ? address : ZERO_MAC;
      const outgoing = packetType === PACKET_OUTGOING;
      const dst = outgoing ? ZERO_MAC : packetType === PACKET_BROADCAST ? BROADCAST_MAC : dev.mac;
      const src = outgoing && sender === ZERO_MAC ? dev.mac : sender;
      return { data: ethernet(dst, src, protocol, data.subarray(header)), direction: outgoing ? 'out' : 'in' };
    }
    default:
      return undefined;
  }
}
