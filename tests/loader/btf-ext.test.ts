// loader/btf-ext.ts against llvm-objdump-19 on every C fixture (golden/X.lines.btf): the source
// line, file and line number of every instruction, the function at each func_info record, the
// CO-RE relocations; one test per kind of malformed input; and a seeded fuzz of mutated and
// truncated .BTF.ext sections that must only ever throw BtfError.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BpfError } from '../../isa/index.js';
import {
  type Btf,
  type BtfExt,
  BtfError,
  CORE_RELO_KIND_NAMES,
  describeCoreRelo,
  type ElfFile,
  lineAt,
  parseBtfExt,
  readBtf,
  readBtfExt,
  readElf,
  sectionByName,
  SymbolType,
} from '../../loader/index.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { prng } from '../support/prng.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const listings = readdirSync(join(FIXTURES, 'golden')).filter((f) => f.endsWith('.lines.btf')).sort();

interface Fixture {
  readonly object: string;
  readonly elf: ElfFile;
  readonly btf: Btf;
  readonly ext: BtfExt;
}

function fixture(object: string): Fixture {
  const elf = readElf(new Uint8Array(readFileSync(join(FIXTURES, object))), object);
  const btf = readBtf(elf)!;
  return { object, elf, btf, ext: readBtfExt(elf, btf)! };
}

/** What llvm-objdump -d -r -S -l says about each instruction: its source line and location, and CO-RE lines. */
interface ObjdumpLine {
  readonly section: string;
  readonly pc: number;
  /** The source text objdump interleaved last before this instruction (undefined before the first). */
  readonly source: string | undefined;
  readonly location: string | undefined;
}

function readListing(name: string): { instructions: ObjdumpLine[]; core: { section: string; offset: number; text: string }[] } {
  const instructions: ObjdumpLine[] = [];
  const core: { section: string; offset: number; text: string }[] = [];
  let section = '';
  let source: string | undefined;
  let location: string | undefined;
  for (const line of readFileSync(join(FIXTURES, 'golden', name), 'utf8').split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^Disassembly of section (.*):$/.exec(line))) {
      [section, source, location] = [m[1]!, undefined, undefined];
    } else if ((m = /^; (\S+:\d+)$/.exec(line))) {
      location = m[1]!;
    } else if (/^; \S+\(\):$/.test(line)) {
      // The function name line of -l.
    } else if ((m = /^; ?(.*)$/.exec(line))) {
      source = m[1]!;
    } else if ((m = /^\s+(\d+):\t/.exec(line))) {
      instructions.push({ section, pc: Number(m[1]), source, location });
    } else if ((m = /^\t\t([0-9a-f]+):  CO-RE (.*)$/.exec(line))) {
      core.push({ section, offset: parseInt(m[1]!, 16), text: m[2]! });
    }
  }
  return { instructions, core };
}

test('the golden glob finds a listing for every C fixture', () => {
  const sources = readdirSync(FIXTURES).filter((f) => f.endsWith('.c'));
  expect(listings.map((l) => l.replace(/\.lines\.btf$/, '.c')).sort()).toEqual(sources.sort());
});

let comparedLines = 0;

describe.each(listings)('%s', (listing) => {
  const f = fixture(listing.replace(/\.lines\.btf$/, '.o'));
  const { instructions, core } = readListing(listing);

  test('every instruction has the source line, file and line number llvm-objdump -S -l shows', () => {
    let compared = 0;
    for (const insn of instructions) {
      const rec = lineAt(f.ext, insn.section, insn.pc);
      if (insn.source === undefined) {
        expect(rec, `${insn.section} pc ${insn.pc}`).toBeUndefined();
        continue;
      }
      expect(rec, `${insn.section} pc ${insn.pc}`).toBeDefined();
      if (insn.source === '{') {
        // DWARF puts a function's first instructions on its opening brace; BTF on its declaration line.
        const func = f.ext.funcInfo.find((s) => s.section === insn.section)!.records.filter((r) => r.pc <= insn.pc).at(-1)!;
        expect(rec!.pc).toBe(func.pc);
        expect(rec!.line).toContain(`${func.name}(`);
        continue;
      }
      expect({ line: rec!.line, location: `${rec!.fileName}:${rec!.lineNumber}` }, `${insn.section} pc ${insn.pc}`)
        .toEqual({ line: insn.source, location: insn.location });
      compared++;
    }
    expect(compared).toBeGreaterThan(instructions.length / 2);
    comparedLines += compared;
  });

  test('func_info names the function symbol at each offset, and every function has one', () => {
    for (const block of f.ext.funcInfo) {
      const section = sectionByName(f.elf, block.section)!;
      const functions = f.elf.symbols.filter((s) => s.sectionIndex === section.index && s.type === SymbolType.FUNC);
      expect(block.records.map((r) => [r.insnOff, r.name])).toEqual(functions.sort((a, b) => a.value - b.value).map((s) => [s.value, s.name]));
      for (const r of block.records) expect(r.pc * 8).toBe(r.insnOff);
    }
  });

  test('CO-RE relocations are those llvm-objdump -r shows', () => {
    const ours = f.ext.coreRelos.flatMap((block) => block.records.map((r) => ({ section: block.section, offset: r.insnOff, text: describeCoreRelo(f.btf, r) })));
    expect(ours).toEqual(core);
  });

  test('line info records lie inside their code sections', () => {
    for (const block of f.ext.lineInfo) {
      const size = sectionByName(f.elf, block.section)!.size;
      for (const r of block.records) expect(r.insnOff).toBeLessThan(size);
    }
  });
});

test('thousands of instructions compared against llvm-objdump', () => {
  expect(comparedLines).toBeGreaterThan(3000);
});

test('core_read: the records as data', () => {
  const { btf, ext } = fixture('core_read.o');
  const records = ext.coreRelos[0]!.records;
  expect(ext.coreRelos.map((b) => b.section)).toEqual(['kprobe/do_nanosleep']);
  expect(records[0]).toEqual({ insnOff: 80, pc: 10, typeId: 21, accessString: '0:0', access: [0, 0], kind: 0 });
  expect(records.map((r) => CORE_RELO_KIND_NAMES[r.kind])).toContain('enumval_value');
  expect(btf.type(21).name).toBe('task_struct');
});

/** A copy of `bytes` with the u32 at `at` replaced. */
function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value >>> 0, true);
  return out;
}

describe('malformed input is a BtfError naming the file, the section and the offset', () => {
  const { btf, elf } = fixture('core_read.o');
  const good = sectionByName(elf, '.BTF.ext')!.data.slice();
  const view = new DataView(good.buffer);
  const hdr = view.getUint32(4, true);
  const func = hdr + view.getUint32(8, true);
  const line = hdr + view.getUint32(16, true);
  const core = hdr + view.getUint32(24, true);
  const cases: [string, Uint8Array, RegExp, number][] = [
    ['too short', good.subarray(0, 6), /too short/, 0],
    ['bad magic', patch(good, 0, 0x0001eb9e), /bad magic/, 0],
    ['version 2', patch(good, 0, 0x0002eb9f), /version 2/, 2],
    ['short header', patch(good, 4, 16), /header length 16/, 4],
    ['func info past the end', patch(good, 12, good.length), /func info block/, func],
    ['truncated', good.subarray(0, good.length - 4), /CO-RE relocation block/, core],
    ['record size too small', patch(good, func, 4), /record size 4/, func],
    ['no records', patch(good, func + 8, 0), /no records/, func + 8],
    ['too many records', patch(good, func + 8, 2), /2 func info records/, func + 12],
    ['section name outside the strings', patch(good, func + 4, 0xffffff), /section name offset/, func + 4],
    ['func info of a non-FUNC', patch(good, func + 16, 1), /not a FUNC/, func + 16],
    ['func info type out of range', patch(good, func + 16, 9999), /out of range/, func + 16],
    ['unaligned instruction offset', patch(good, line + 12, 3), /not a multiple of 8/, line + 12],
    ['line text outside the strings', patch(good, line + 20, 0xffffff), /line offset/, line + 20],
    ['CO-RE kind', patch(good, core + 12 + 12, 13), /kind 13 is unknown/, core + 24],
    ['CO-RE type 0', patch(good, core + 12 + 4, 0), /type id 0/, core + 16],
  ];

  test.each(cases)('%s', (_name, bytes, message, offset) => {
    const base = 0x1000;
    let error: unknown;
    try {
      parseBtfExt(bytes, btf, { file: 'core_read.o', offset: base });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BtfError);
    const e = error as BtfError;
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^core_read\.o: section \.BTF\.ext: offset 0x/);
    expect(e.offset).toBe(base + offset);
  });

  test('an access string that is not a list of numbers', () => {
    // Point the first CO-RE record's access string at a type's name.
    const name = btf.type(21).name;
    const offset = [...Array(btf.strings.length).keys()].find((i) => new TextDecoder().decode(btf.strings.subarray(i, i + name.length + 1)) === `${name}\0`)!;
    expect(() => parseBtfExt(patch(good, core + 12 + 8, offset), btf)).toThrow(/access string 'task_struct'/);
  });

  test('.BTF.ext without .BTF', () => {
    expect(() => readBtfExt(elf, undefined)).toThrow(BtfError);
  });
});


const FUZZ_SEED = 0xe47_5eed;
const FUZZ_CASES = 3000;

test(`${FUZZ_CASES} mutated or truncated .BTF.ext sections throw only BtfError`, () => {
  const targets = listings.map((l) => {
    const f = fixture(l.replace(/\.lines\.btf$/, '.o'));
    return { ...f, bytes: sectionByName(f.elf, '.BTF.ext')!.data.slice() };
  });
  const random = prng(FUZZ_SEED);
  const pick = (n: number) => Math.floor(random() * n);
  const interesting = [0, 1, 2, 4, 8, 12, 16, 24, 32, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
  const failures: string[] = [];
  let rejected = 0;
  for (let i = 0; i < FUZZ_CASES; i++) {
    const target = targets[pick(targets.length)]!;
    let bytes: Uint8Array;
    let how: string;
    if (random() < 0.2) {
      const length = pick(target.bytes.length);
      bytes = target.bytes.slice(0, length);
      how = `truncate to ${length}`;
    } else {
      bytes = target.bytes.slice();
      const view = new DataView(bytes.buffer);
      const hows: string[] = [];
      for (let n = 1 + pick(3); n > 0; n--) {
        // Mostly the header and the block headers, where the structure is; then any word.
        const at = random() < 0.4 ? pick(8) * 4 : pick(bytes.length >> 2) * 4;
        const value = random() < 0.7 ? interesting[pick(interesting.length)]! : (pick(1 << 16) << 16 | pick(1 << 16)) >>> 0;
        view.setUint32(at, value, true);
        hows.push(`u32@${at}=0x${value.toString(16)}`);
      }
      how = hows.join(', ');
    }
    try {
      const ext = parseBtfExt(bytes, target.btf, { file: target.object });
      for (const block of ext.lineInfo) for (const r of block.records) lineAt(ext, block.section, r.pc);
      for (const block of ext.coreRelos) {
        for (const r of block.records) {
          try {
            describeCoreRelo(target.btf, r);
          } catch (err) {
            if (!(err instanceof BtfError)) throw err;
          }
        }
      }
    } catch (err) {
      if (err instanceof BpfError) rejected++;
      else failures.push(`case ${i} (${target.object}: ${how}): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }
  expect(failures.slice(0, 10)).toEqual([]);
  expect(rejected).toBeGreaterThan(FUZZ_CASES / 4);
});
