// Fuzzing loader/elf.ts (and the objdump listing built on it) with truncated and mutated copies of
// the fixture objects: a fixed seed, a few thousand cases. Whatever the input, the only errors
// allowed are BpfError subclasses; a successful read must hold views inside the input.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { BpfError, objdumpListing } from '../../isa/index.js';
import { codeSections, type ElfFile, readElf, SectionType } from '../../loader/index.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { prng } from '../support/prng.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const SEED = 0x5eed_b9f;
const CASES = 4000;


interface Target {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Byte offsets of structural fields: header, section headers, symbols, relocations. */
  readonly fields: readonly { at: number; width: 1 | 2 | 4 | 8 }[];
}

function structuralFields(elf: ElfFile, bytes: Uint8Array): Target['fields'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(view.getBigUint64(40, true));
  const fields: { at: number; width: 1 | 2 | 4 | 8 }[] = [];
  for (const [at, width] of [[4, 1], [5, 1], [6, 1], [16, 2], [18, 2], [20, 4], [40, 8], [52, 2], [58, 2], [60, 2], [62, 2]] as const) fields.push({ at, width });
  for (const s of elf.sections) {
    const h = shoff + s.index * 64;
    for (const [off, width] of [[0, 4], [4, 4], [8, 8], [24, 8], [32, 8], [40, 4], [44, 4], [56, 8]] as const) fields.push({ at: h + off, width });
    if (s.type === SectionType.SYMTAB) {
      for (let i = 0; i < s.size / 24; i++) {
        for (const [off, width] of [[0, 4], [4, 1], [6, 2], [8, 8], [16, 8]] as const) fields.push({ at: s.offset + i * 24 + off, width });
      }
    }
    if (s.type === SectionType.REL) {
      for (let i = 0; i < s.size / 16; i++) {
        for (const [off, width] of [[0, 8], [8, 4], [12, 4]] as const) fields.push({ at: s.offset + i * 16 + off, width });
      }
    }
  }
  return fields;
}

const targets: Target[] = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort().map((name) => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
  return { name, bytes, fields: structuralFields(readElf(bytes, name), bytes) };
});

function mutate(target: Target, random: () => number): { bytes: Uint8Array; how: string } {
  const pick = (n: number) => Math.floor(random() * n);
  const kind = random();
  if (kind < 0.15) {
    const length = pick(target.bytes.length);
    return { bytes: target.bytes.slice(0, length), how: `truncate to ${length}` };
  }
  const bytes = target.bytes.slice();
  const view = new DataView(bytes.buffer);
  if (kind < 0.35) {
    const hows: string[] = [];
    for (let n = 1 + pick(8); n > 0; n--) {
      const at = pick(bytes.length);
      bytes[at] = pick(256);
      hows.push(`byte ${at}=${bytes[at]}`);
    }
    return { bytes, how: hows.join(', ') };
  }
  const interesting = [0n, 1n, 2n, 0x7fn, 0xffn, 0xffffn, 0xff00n, 0xfff1n, 0x7fffffffn, 0xffffffffn, BigInt(bytes.length), BigInt(bytes.length - 1), 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n];
  const hows: string[] = [];
  for (let n = 1 + pick(3); n > 0; n--) {
    const { at, width } = target.fields[pick(target.fields.length)]!;
    const value = random() < 0.6 ? interesting[pick(interesting.length)]! : BigInt(pick(2 ** 32)) * BigInt(1 + pick(3));
    const v = BigInt.asUintN(width * 8, value);
    if (width === 1) view.setUint8(at, Number(v));
    else if (width === 2) view.setUint16(at, Number(v), true);
    else if (width === 4) view.setUint32(at, Number(v), true);
    else view.setBigUint64(at, v, true);
    hows.push(`u${width * 8}@${at}=0x${v.toString(16)}`);
  }
  return { bytes, how: hows.join(', ') };
}

/** What a successful read promises: views inside the input, indices that resolve. */
function checkConsistent(elf: ElfFile, bytes: Uint8Array): void {
  for (const s of elf.sections) {
    if (s.data.length > 0 && (s.data.buffer !== bytes.buffer || s.data.byteOffset + s.data.length > bytes.byteOffset + bytes.length)) {
      throw new Error(`section ${s.index} data escapes the input`);
    }
  }
  for (const rel of elf.relocations) {
    if (!elf.sections[rel.target]) throw new Error(`relocation target ${rel.target} does not exist`);
    for (const r of rel.relocations) if (!elf.symbols[r.symbol]) throw new Error(`relocation symbol ${r.symbol} does not exist`);
  }
}

test(`${CASES} mutated or truncated objects throw only BpfError subclasses`, () => {
  const random = prng(SEED);
  const failures: string[] = [];
  let rejected = 0;
  for (let i = 0; i < CASES; i++) {
    const target = targets[Math.floor(random() * targets.length)]!;
    const { bytes, how } = mutate(target, random);
    try {
      const elf = readElf(bytes, target.name);
      checkConsistent(elf, bytes);
      objdumpListing(target.name, codeSections(elf));
      objdumpListing(target.name, codeSections(elf), { alu32: true });
    } catch (err) {
      if (err instanceof BpfError) rejected++;
      else failures.push(`case ${i} (${target.name}: ${how}): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }
  expect(failures.slice(0, 10)).toEqual([]);
  // The mutations must actually reach the checks, not just decorate data bytes.
  expect(rejected).toBeGreaterThan(CASES / 4);
});

test('every truncation of a small object is rejected with an ElfError', () => {
  const target = targets.find((t) => t.name === 'socket_filter.o')!;
  for (let length = 0; length < target.bytes.length; length += 7) {
    expect(() => readElf(target.bytes.subarray(0, length), target.name), `length ${length}`).toThrow(BpfError);
  }
});
