// The cases of scripts/kernel-oracle/strtox.mjs and the frame each one makes for
// tests/fixtures/strtox.o; tests/helpers/strtox.test.ts builds the same frames from here.
/** Texts, flags (the base, or bad bits), the length to parse and which helper. */
const TEXTS = ['123', '  42xyz', '-17', '0x1f', '0X1F', '017', '0', '-0', 'abc', '', '   ', '-', '0x', '0xg', '99999999999999999999',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '18446744073709551615',
  '18446744073709551616', 'ffffffffffffffff', '\t\n\v\f\r 5', '\xa0 7', '12 34', '0777', '089', '+5', '1234567890123456789012345678901'];
const FLAGS = [0, 8, 10, 16, 2, 0x20];
export const CASES = [];
for (const text of TEXTS) {
  for (const flags of FLAGS) {
    for (const unsigned of [0, 1]) CASES.push({ text, flags, unsigned, len: Math.max(1, Math.min(32, text.length)) });
  }
}
// Lengths shorter than the text: the parse stops there.
for (const text of ['123456', '  -42', '0x1234']) for (const len of [1, 2, 3, 4]) CASES.push({ text, flags: 0, unsigned: 0, len });

export function frame(c) {
  const bytes = new Uint8Array(64);
  bytes[16] = c.flags;
  bytes[17] = c.unsigned;
  bytes[18] = c.len;
  bytes.set(Buffer.from(c.text, 'latin1'), 24);
  return bytes;
}

