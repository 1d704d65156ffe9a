// bpf_trace_printk's format language, as kernel/bpf/helpers.c (bpf_bprintf_prepare) accepts it:
// printable text, and conversions %d %i %u %x %X %c %s %p (with l and ll), %pI4 %pi4 %pI6 %pi6
// (addresses read through the pointer, as lib/vsprintf.c prints them), optional flags ("0+- ") and a
// width. An argument is a 64-bit register; without `l` it is taken as 32 bits.

/** A format the kernel refuses (the helper returns -EINVAL). */
export class PrintkFormatError extends Error {}

/** Reads a NUL-terminated string from guest memory (a %s argument), at most `max` bytes. */
export type StringReader = (address: number, max: number) => string | undefined;

/** Reads `length` bytes of guest memory (a %pI4/%pI6 argument); undefined when they cannot be read. */
export type BytesReader = (address: number, length: number) => Uint8Array | undefined;

/** An IP address as lib/vsprintf.c prints it: %pI4 1.2.3.4, %pi4 001.002.003.004, %pI6 0001:0db8:..., %pi6 00010db8... */
function ipAddress(bytes: Uint8Array, wide: boolean, dotted: boolean): string {
  if (bytes.length === 4) return [...bytes].map((b) => (dotted ? String(b) : String(b).padStart(3, '0'))).join('.');
  const groups = Array.from({ length: 8 }, (_, g) => ((bytes[2 * g]! << 8) | bytes[2 * g + 1]!).toString(16).padStart(4, '0'));
  return groups.join(wide ? ':' : '');
}

/** The kernel's cap on one %s argument and on the whole output (MAX_BPRINTF_BUF / MAX_BPRINTF_STR_LEN). */
const MAX_STRING = 512;

function pad(text: string, width: number, flags: string): string {
  if (text.length >= width) return text;
  if (flags.includes('-')) return text.padEnd(width);
  if (flags.includes('0')) {
    const sign = /^[-+ ]/.test(text) ? text[0]! : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return text.padStart(width);
}

/** Formats `format` with up to `maxArgs` 64-bit arguments. Throws PrintkFormatError where Linux returns -EINVAL. */
export function formatPrintk(format: string, args: readonly bigint[], readString: StringReader, maxArgs = 3, readBytes?: BytesReader): string {
  let out = '';
  let used = 0;
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    const code = ch.charCodeAt(0);
    if (!(code >= 0x20 && code < 0x7f) && !/\s/.test(ch)) throw new PrintkFormatError(`character 0x${code.toString(16)} is neither printable nor space`);
    if (ch !== '%') {
      out += ch;
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%';
      i++;
      continue;
    }
    if (used >= maxArgs) throw new PrintkFormatError(`more than ${maxArgs} conversions`);
    let j = i + 1;
    let flags = '';
    while ('0+- '.includes(format[j] ?? 'x')) flags += format[j++];
    let width = 0;
    while (/[0-9]/.test(format[j] ?? '')) width = width * 10 + Number(format[j++]);
    let longs = 0;
    while (format[j] === 'l' && longs < 2) {
      longs++;
      j++;
    }
    const conv = format[j];
    const raw = args[used++] ?? 0n;
    const wide = longs > 0;
    let text: string;
    switch (conv) {
      case 'd': case 'i': {
        const v = wide ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw);
        text = (v >= 0n && flags.includes('+') ? '+' : v >= 0n && flags.includes(' ') ? ' ' : '') + v.toString();
        break;
      }
      case 'u': case 'x': case 'X': {
        const v = wide ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw);
        text = conv === 'u' ? v.toString() : conv === 'x' ? v.toString(16) : v.toString(16).toUpperCase();
        break;
      }
      case 'c':
        if (wide) throw new PrintkFormatError('%lc is not supported');
        text = String.fromCharCode(Number(raw & 0xffn));
        break;
      case 's': {
        if (wide) throw new PrintkFormatError('%ls is not supported');
        const s = readString(Number(BigInt.asUintN(32, raw)), MAX_STRING);
        // Linux prints what it could read; an unreadable pointer gives an empty string.
        text = s ?? '';
        break;
      }
      case 'p':
        if (wide) throw new PrintkFormatError('%lp is not supported');
        if (format[j + 1] === 'i' || format[j + 1] === 'I') {
          const size = format[j + 2] === '4' ? 4 : format[j + 2] === '6' ? 16 : 0;
          if (!size) throw new PrintkFormatError(`%p${format[j + 1]} must be followed by 4 or 6`);
          // Linux prints zeros for an address it cannot read.
          const bytes = readBytes?.(Number(BigInt.asUintN(32, raw)), size) ?? new Uint8Array(size);
          text = ipAddress(bytes, format[j + 1] === 'I', format[j + 1] === 'I');
          j += 2;
          break;
        }
        // %p prints a hashed pointer in Linux; the runtime prints it raw (as %px) so output is reproducible.
        if (format[j + 1] === 'x' || format[j + 1] === 'K') j++;
        text = `0x${BigInt.asUintN(64, raw).toString(16).padStart(16, '0')}`;
        break;
      default:
        throw new PrintkFormatError(`unsupported conversion '%${format.slice(i + 1, j + 1)}'`);
    }
    out += pad(text, width, flags);
    i = j;
  }
  return out.slice(0, MAX_STRING - 1);
}
