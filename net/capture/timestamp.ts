// Exact conversions between pcapng's 64-bit timestamps (two 32-bit halves counting units of
// `if_tsresol`) and seconds + nanoseconds, in doubles: nanoseconds since 1970 pass 2^53, so the
// 64-bit count is divided in 16-bit digits where it could not be held exactly.

/** The result of `unitsToTime`, reused from call to call so that reading allocates nothing. */
export interface TimeParts {
  seconds: number;
  nanoseconds: number;
}

const TWO_32 = 0x1_0000_0000;
const TWO_53 = 2 ** 53;

/** Seconds and nanoseconds of `hi * 2^32 + lo` units at `unitsPerSecond`, written into `out`. */
export function unitsToTime(hi: number, lo: number, unitsPerSecond: number, out: TimeParts): void {
  let seconds: number;
  let rest: number;
  if (hi < 0x200000 || (unitsPerSecond <= 1e9 && unitsPerSecond >= 2048)) {
    // Below 2^53 the count is exact as a double and so is the remainder. Above, the double
    // quotient is still within one of the true one (the count's rounding error is about 2^10
    // units) and below 2^53, and the remainder small enough to compute modulo 2^32, as an int32.
    seconds = Math.floor((hi * TWO_32 + lo) / unitsPerSecond);
    rest = hi < 0x200000 ? hi * TWO_32 + lo - seconds * unitsPerSecond : (lo - Math.imul(seconds, unitsPerSecond)) | 0;
    if (rest < 0) {
      seconds -= 1;
      rest += unitsPerSecond;
    } else if (rest >= unitsPerSecond) {
      seconds += 1;
      rest -= unitsPerSecond;
    }
  } else if (unitsPerSecond < 2 ** 36) {
    // Long division by 16-bit digits: every partial remainder times 2^16 stays below 2^53.
    const d3 = hi >>> 16;
    const d2 = hi & 0xffff;
    const d1 = lo >>> 16;
    const d0 = lo & 0xffff;
    let r = d3;
    const q3 = Math.floor(r / unitsPerSecond);
    r = (r - q3 * unitsPerSecond) * 0x10000 + d2;
    const q2 = Math.floor(r / unitsPerSecond);
    r = (r - q2 * unitsPerSecond) * 0x10000 + d1;
    const q1 = Math.floor(r / unitsPerSecond);
    r = (r - q1 * unitsPerSecond) * 0x10000 + d0;
    const q0 = Math.floor(r / unitsPerSecond);
    rest = r - q0 * unitsPerSecond;
    seconds = ((q3 * 0x10000 + q2) * 0x10000 + q1) * 0x10000 + q0;
  } else {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const ups = BigInt(unitsPerSecond);
    out.seconds = Number(units / ups);
    out.nanoseconds = Number(((units % ups) * 1_000_000_000n) / ups);
    return;
  }
  out.seconds = seconds;
  out.nanoseconds = fractionToNanoseconds(rest, unitsPerSecond);
}

/** Nanoseconds in `rest` units of 1/`unitsPerSecond` second (rounded down). */
function fractionToNanoseconds(rest: number, unitsPerSecond: number): number {
  if (unitsPerSecond === 1_000_000_000) return rest;
  if (unitsPerSecond === 1_000_000) return rest * 1000;
  if (unitsPerSecond * 1e9 < TWO_53) return Math.floor((rest * 1e9) / unitsPerSecond);
  return Number((BigInt(rest) * 1_000_000_000n) / BigInt(unitsPerSecond));
}

/** The 64-bit nanosecond count of a timestamp, as two 32-bit halves written into `out` ([hi, lo]). */
export function nanosecondUnits(seconds: number, nanoseconds: number, out: [number, number]): void {
  // seconds * 1e9 + nanoseconds, with seconds split at 2^16 so that every product is exact.
  const secondsLow = seconds % 0x10000;
  const high = Math.floor(seconds / 0x10000) * 1e9; // times 2^16 below
  const low = secondsLow * 1e9 + nanoseconds;
  const highHi = Math.floor(high / 0x10000);
  const t = (high - highHi * 0x10000) * 0x10000 + low;
  const carry = Math.floor(t / TWO_32);
  out[0] = highHi + carry;
  out[1] = t - carry * TWO_32;
}

const DECIMAL_UNITS = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** Units per second of a pcapng `if_tsresol` byte: 10^-n, or 2^-n when the top bit is set; undefined if unrepresentable. */
export function tsresolUnits(tsresol: number): number | undefined {
  const exponent = tsresol & 0x7f;
  if (tsresol & 0x80) return exponent <= 52 ? 2 ** exponent : undefined;
  return DECIMAL_UNITS[exponent];
}
