// The flow hash the runtime computes where Linux would (skb->hash, the receive hash hint).
/** Ethernet header length. */
const ETH_HLEN = 14;

/**
 * A flow hash of an Ethernet frame with Linux's properties: never 0; the same for a flow whichever
 * way round its addresses and its ports are (Linux orders each pair, independently, before hashing);
 * ports only for TCP, UDP, UDP-Lite, SCTP and DCCP outside IPv4 fragments. The mixing is our own.
 */
export function flowHash(frame: Uint8Array): number {
  const words: number[] = [];
  const word = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const etherType = frame.length >= ETH_HLEN ? (frame[12]! << 8) | frame[13]! : 0;
  const l3 = frame.subarray(ETH_HLEN);
  let proto = -1;
  let l4: Uint8Array | undefined;
  let addresses: [number[], number[]] | undefined;
  if (etherType === 0x0800 && l3.length >= 20) {
    proto = l3[9]!;
    addresses = [[word(l3, 12)], [word(l3, 16)]];
    const fragment = ((l3[6]! << 8) | l3[7]!) & 0x3fff;
    if (!fragment) l4 = l3.subarray((l3[0]! & 0xf) * 4);
  } else if (etherType === 0x86dd && l3.length >= 40) {
    proto = l3[6]!;
    addresses = [[8, 12, 16, 20].map((o) => word(l3, o)), [24, 28, 32, 36].map((o) => word(l3, o))];
    l4 = l3.subarray(40);
  }
  if (addresses) {
    const [a, b] = addresses;
    const first = a.findIndex((w, i) => w !== b[i]);
    words.push(...(first >= 0 && a[first]! > b[first]! ? [...b, ...a] : [...a, ...b]));
  }
  if (l4 && [6, 17, 33, 132, 136].includes(proto) && l4.length >= 4) {
    const ports = [(l4[0]! << 8) | l4[1]!, (l4[2]! << 8) | l4[3]!].sort((x, y) => x - y);
    words.push(((ports[0]! << 16) | ports[1]!) >>> 0);
  }
  words.push(((etherType << 8) | (proto & 0xff)) >>> 0);
  // murmur3-style mixing of each word into the state, then its finaliser.
  let h = 0x9e3779b9;
  for (const w of words) {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0 || 1;
}
