// isa/objdump.ts against llvm-objdump-19: every committed fixture object is read with the ELF
// reader, listed, and compared with the golden listings build.sh made with the real tool, both in
// its default mode and with --mattr=+alu32. Instruction lines must match exactly, all of them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  decode,
  formatObjdump,
  make,
  objdumpListing,
  objdumpSection,
  Op,
  OPCODES,
  specOf,
  type ObjdumpOptions,
} from '../../isa/index.js';
import { codeSections, readElf } from '../../loader/index.js';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();

const MODES: { name: string; suffix: string; options: ObjdumpOptions }[] = [
  { name: 'llvm-objdump -d', suffix: '.objdump', options: {} },
  { name: 'llvm-objdump -d --mattr=+alu32', suffix: '.alu32.objdump', options: { alu32: true } },
];

/** Instruction lines (`   12:\t<bytes>\t<text>`) keyed by their position among all instruction lines. */
function instructionLines(listing: string): string[] {
  return listing.split('\n').filter((line) => /^ *\d+:\t/.test(line));
}

function listing(object: string, options: ObjdumpOptions): string {
  const elf = readElf(readFileSync(join(FIXTURES, object)), object);
  return objdumpListing(object, codeSections(elf), options);
}

test('the fixture glob finds objects and golden listings', () => {
  expect(objects.length).toBeGreaterThanOrEqual(8);
  for (const object of objects) {
    for (const { suffix } of MODES) {
      expect(readdirSync(join(FIXTURES, 'golden')), `golden listing for ${object}`).toContain(object.replace(/\.o$/, suffix));
    }
  }
});

describe.each(MODES)('$name', ({ suffix, options }) => {
  test.each(objects)('%s', (object) => {
    const golden = readFileSync(join(FIXTURES, 'golden', object.replace(/\.o$/, suffix)), 'utf8');
    const ours = listing(object, options);
    const want = instructionLines(golden);
    const got = instructionLines(ours);
    expect(want.length, 'golden listing has instructions').toBeGreaterThan(0);
    const mismatches: string[] = [];
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      if (want[i] !== got[i]) mismatches.push(`#${i}\n  llvm: ${JSON.stringify(want[i])}\n  ours: ${JSON.stringify(got[i])}`);
    }
    expect(mismatches.slice(0, 10).join('\n'), `${mismatches.length} of ${want.length} instructions differ`).toBe('');
    // Headers too: file line, section headers, symbol headers and blank lines.
    expect(ours).toBe(golden);
  });
});

test('the fixtures use every row of the opcode table', () => {
  const seen = new Set<Op>();
  for (const object of objects) {
    const elf = readElf(readFileSync(join(FIXTURES, object)), object);
    for (const section of codeSections(elf)) {
      for (const insn of decode(section.data)) seen.add(insn.op);
    }
  }
  const missing = OPCODES.filter((row) => !seen.has(row.op)).map((row) => `${row.mnemonic} (0x${row.opcode.toString(16)})`);
  expect(missing).toEqual([]);
});

// A few renderings spelled out, so that a failure here names the syntax rule at stake.
const row = (op: Op) => specOf(op);
test.for([
  [make(row(Op.Ldxw), { dst: 0, src: 1, off: 4 }), {}, 'r0 = *(u32 *)(r1 + 0x4)'],
  [make(row(Op.Ldxw), { dst: 0, src: 1, off: 4 }), { alu32: true }, 'w0 = *(u32 *)(r1 + 0x4)'],
  [make(row(Op.Ldxsh), { dst: 0, src: 1, off: -2 }), { alu32: true }, 'r0 = *(s16 *)(r1 - 0x2)'],
  [make(row(Op.Jgt64K), { dst: 1, imm: 2, off: 1 }), {}, 'if r1 > 0x2 goto +0x1'],
  [make(row(Op.Jsle32X), { dst: 1, src: 2, off: -3 }), {}, 'if w1 s<= w2 goto -0x3'],
  [make(row(Op.Lddw), { dst: 1, imm: 0, immHi: 0 }), {}, 'r1 = 0x0 ll'],
  [make(row(Op.Lddw), { dst: 1, imm: -1, immHi: -1 }), {}, 'r1 = -0x1 ll'],
  [make(row(Op.LddwMapFd), { dst: 1, imm: 7 }), {}, 'ld_pseudo\tr1, 0x1, 0x7'],
  [make(row(Op.CallHelper), { imm: 1 }), {}, 'call 0x1'],
  [make(row(Op.CallLocal), { imm: -1 }), {}, 'call -0x1'],
  [make(row(Op.Callx), { dst: 1 }), {}, 'callx r1'],
  [make(row(Op.AtomicAdd64), { dst: 10, src: 1, off: -8 }), {}, 'lock *(u64 *)(r10 - 0x8) += r1'],
  [make(row(Op.AtomicFetchAdd32), { dst: 10, src: 1, off: -8 }), {}, 'lock *(u32 *)(r10 - 0x8) += r1'],
  [make(row(Op.AtomicFetchAdd32), { dst: 10, src: 1, off: -8 }), { alu32: true }, 'w1 = atomic_fetch_add((u32 *)(r10 - 0x8), w1)'],
  [make(row(Op.AtomicXchg32), { dst: 10, src: 1, off: -8 }), {}, '<unknown>'],
  [make(row(Op.AtomicCmpxchg64), { dst: 1, src: 2 }), {}, 'r0 = cmpxchg_64(r1 + 0x0, r0, r2)'],
  [make(row(Op.Mov32X), { dst: 0, src: 1 }), {}, 'w0 = w1'],
  [make(row(Op.Be16), { dst: 0 }), {}, 'r0 = be16 r0'],
  [make(row(Op.Sdiv64X), { dst: 0, src: 1 }), {}, 'r0 s/= r1'],
  [make(row(Op.Movsx64_8), { dst: 0, src: 1 }), {}, 'r0 = (s8)r1'],
  [make(row(Op.Ja32), { imm: -2 }), {}, 'gotol -0x2'],
  [make(row(Op.Stdw), { dst: 10, off: -8, imm: -2147483648 }), {}, '*(u64 *)(r10 - 0x8) = -0x80000000'],
  [make(row(Op.LdIndH), { src: 7, imm: 0 }), {}, 'r0 = *(u16 *)skb[r7]'],
] as const)('%s %o -> %s', ([insn, options, text]) => {
  expect(formatObjdump(insn, options)).toBe(text);
});

test('listings annotate jumps with the nearest label, and name unlabelled sections', () => {
  const code = new Uint8Array([
    0x05, 0x00, 0x01, 0x00, 0, 0, 0, 0, // goto +1
    0xb7, 0x00, 0x00, 0x00, 1, 0, 0, 0, // r0 = 1
    0x95, 0, 0, 0, 0, 0, 0, 0, // exit
  ]);
  expect(objdumpSection({ name: 'xdp', data: code, symbols: [{ name: 'tail', offset: 16 }] })).toBe([
    '',
    'Disassembly of section xdp:',
    '',
    '0000000000000000 <xdp>:',
    '       0:\t05 00 01 00 00 00 00 00\tgoto +0x1 <tail>',
    '       1:\tb7 00 00 00 01 00 00 00\tr0 = 0x1',
    '',
    '0000000000000010 <tail>:',
    '       2:\t95 00 00 00 00 00 00 00\texit',
  ].join('\n'));
});
