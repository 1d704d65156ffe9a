// bpf_strtol (105) and bpf_strtoul (106) (kernel/bpf/helpers.c, with lib/kstrtox.c's parsing):
// an integer read from the start of a buffer, after leading white space and an optional '-', in
// base 8, 10 or 16, or the base its prefix gives (flags 0: "0x" hex, "0" octal, else decimal).
// They return how many bytes they consumed, -EINVAL for bad flags or no digits, -ERANGE for a value
// that does not fit; the result (zeroed first, as Linux does) is written through the fourth argument.
import { Errno } from '../maps/constants.js';
import type { HelperCall, HelperSpec } from './table.js';

/** BPF_STRTOX_BASE_MASK: the flags' base bits. */
const BASE_MASK = 0x1f;
/** Linux parses at most this many bytes after the sign (its buffer is 64 bytes with the NUL). */
const MAX_DIGITS = 63;
const U64_MAX = (1n << 64n) - 1n;

/** The kernel's isspace: the C white space, and latin-1's no-break space. */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
const isHexDigit = (c: number) => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/** __bpf_strtoull: { consumed, value, negative }, or a negative errno. */
function parse(bytes: Uint8Array, flags: bigint): { consumed: number; value: bigint; negative: boolean } | number {
  let base = Number(flags & BigInt(BASE_MASK));
  if (bytes.length === 0) return -Errno.EINVAL;
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return -Errno.EINVAL;
  if (flags & ~BigInt(BASE_MASK)) return -Errno.EINVAL;
  let at = 0;
  while (at < bytes.length && isSpace(bytes[at]!)) at++;
  const negative = at < bytes.length && bytes[at] === 0x2d;
  if (negative) at++;
  if (at === bytes.length) return -Errno.EINVAL;
  // The digits are read from a NUL-terminated copy of at most 63 bytes.
  const text = new Uint8Array(MAX_DIGITS + 1);
  const copied = Math.min(bytes.length - at, MAX_DIGITS);
  text.set(bytes.subarray(at, at + copied));
  const nul = text.indexOf(0);
  const s = text.subarray(0, nul);
  let i = 0;
  if (base === 0) base = s[0] === 0x30 ? ((s[1]! | 0x20) === 0x78 && isHexDigit(s[2] ?? 0) ? 16 : 8) : 10;
  if (base === 16 && s[0] === 0x30 && ((s[1] ?? 0) | 0x20) === 0x78) i = 2;
  let value = 0n;
  let digits = 0;
  let overflow = false;
  for (; i < s.length; i++, digits++) {
    const c = s[i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x61 + 10 : 99;
    if (d >= base) break;
    const next = value * BigInt(base) + BigInt(d);
    if (next > U64_MAX) overflow = true;
    value = next & U64_MAX;
  }
  if (overflow) return -Errno.ERANGE;
  if (digits === 0) return -Errno.EINVAL;
  return { consumed: at + i, value, negative };
}

/** Runs one of the two: reads the buffer, writes the result (zero first), returns consumed or -errno. */
function strtox(call: HelperCall, signed: boolean): void {
  const buf = call.argU32(1);
  const length = call.argU32(2);
  const out = call.argU32(4);
  const view = call.memory.view;
  view.setBigUint64(out, 0n, true);
  const parsed = parse(call.memory.bytes.subarray(buf, buf + length), BigInt.asUintN(64, call.arg(3)));
  if (typeof parsed === 'number') return call.returnNumber(parsed);
  let result: bigint;
  if (signed) {
    result = parsed.negative ? -parsed.value : parsed.value;
    if (parsed.negative ? BigInt.asIntN(64, -parsed.value) > 0n : BigInt.asIntN(64, parsed.value) < 0n) return call.returnNumber(-Errno.ERANGE);
  } else {
    if (parsed.negative) return call.returnNumber(-Errno.EINVAL);
    result = parsed.value;
  }
  view.setBigUint64(out, BigInt.asUintN(64, result), true);
  call.returnNumber(parsed.consumed);
}

const PROTO = { ret: 'integer', args: ['ptr_to_mem', 'const_size', 'anything', 'ptr_to_long'] } as const;

/** bpf_strtol and bpf_strtoul, offered to every program type as Linux's base prototypes do. */
export const strtoxHelpers: readonly HelperSpec[] = [
  { id: 105, name: 'bpf_strtol', proto: PROTO, impl: (call) => strtox(call, true) },
  { id: 106, name: 'bpf_strtoul', proto: PROTO, impl: (call) => strtox(call, false) },
];
