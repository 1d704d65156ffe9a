// IPv4 and IPv6 addresses as text: parsing (dotted quad; RFC 4291 colon groups with at most one
// '::') and RFC 5952's canonical IPv6 form. Shared by the socket table and the packet builder.

/** The 4 bytes of a dotted IPv4 address. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`bad IPv4 address '${text}'`);
  return Uint8Array.from(parts);
}

/** The 16 bytes of an IPv6 address in colon notation (with at most one '::'). */
export function parseIpv6(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(Math.max(0, 8 - h.length - t.length)).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new RangeError(`bad IPv6 address '${text}'`);
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

/** An IPv6 address as RFC 5952 writes it: lower-case groups, the longest run of two or more zero groups as '::'. */
export function formatIpv6(b: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}
