// The verifier gates loading (issue 10): every fixture and example program verifies; programs load
// one by one as libbpf loads them, so a rejected program is reported without failing the object;
// the JIT runs verified programs only, and skipping verification is an explicit choice the
// checked interpreter alone accepts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Op } from '../../isa/opcodes.js';
import { Runtime, RuntimeError } from '../../runtime/runtime.js';
import { VerifierError } from '../../verifier/diagnostics.js';
import { assemble } from '../../isa/assembler.js';
import { encode } from '../../isa/instruction.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

/**
 * Every object in the tree a user may load: the test fixtures and the examples (all_opcodes.o is
 * bare code, no program; examples/rejected/ holds programs the verifier must refuse).
 */
function objects(): string[] {
  const fixtures = join(PROJECT_ROOT, 'tests', 'fixtures');
  const examples = join(PROJECT_ROOT, 'examples');
  return [
    ...readdirSync(fixtures).filter((f) => f.endsWith('.o') && f !== 'all_opcodes.o').map((f) => join(fixtures, f)),
    ...readdirSync(examples, { recursive: true }).map(String).filter((f) => f.endsWith('.o') && !f.startsWith('rejected')).map((f) => join(examples, f)),
  ].sort();
}

/** An object with two XDP programs: `good` returns XDP_PASS, `bad` reads a register it never wrote. */
function twoPrograms(): Uint8Array {
  const good = encode(assemble('mov %r0, 2\nexit'));
  const bad = encode(assemble('mov %r0, %r5\nexit'));
  return writeElf({
    programs: [{ name: 'xdp/good', code: good }, { name: 'xdp/bad', code: bad }],
    functions: [
      { name: 'good', section: 'xdp/good', offset: 0, size: good.length, global: true },
      { name: 'bad', section: 'xdp/bad', offset: 0, size: bad.length, global: true },
    ],
    calls: [],
    license: 'GPL',
  });
}

describe('every program in the tree verifies', () => {
  test.for(objects().map((path) => [path.slice(PROJECT_ROOT.length + 1), path]))('%s', async ([, path]) => {
    const obj = await new Runtime().loadObject(new Uint8Array(readFileSync(path!)), { fileName: path });
    // sections.o holds one program of each type the verifier has no model of, each refused alone.
    const unmodelled = (err: Error) => path!.endsWith('sections.o') && err instanceof VerifierError && err.report.kind === 'program-type';
    expect([...obj.failures].filter(([, err]) => !unmodelled(err)).map(([name, err]) => `${name}: ${err.message}`)).toEqual([]);
    expect(obj.programs.size).toBeGreaterThan(0);
    for (const p of obj.programs.values()) {
      expect(p.verified, p.verdict.reason).toBe(true);
      expect(p.verdict.insnsProcessed).toBeGreaterThan(0);
    }
    obj.close();
  });
});

test('the README\'s rejected example is refused, with Linux\'s message, the source line and what to change', async () => {
  const path = join(PROJECT_ROOT, 'examples', 'rejected', 'packet_bounds.o');
  const obj = await new Runtime().loadObject(path);
  const failure = obj.failures.get('packet_bounds') as VerifierError;
  expect(failure).toBeInstanceOf(VerifierError);
  const report = failure.report;
  expect(report.message).toBe('invalid access to packet, off=14 size=1, R1(id=0,off=14,r=0)\nR1 offset is outside of the packet');
  expect(report.pc).toBe(1);
  expect(report.source?.text.trim()).toBe('return data[14] == 0x45 ? XDP_PASS : XDP_DROP;');
  expect(report.suggestion).toMatch(/compare the end of what you read with data_end/);
});

test.for(['interp', 'jit'] as const)('code no path reaches becomes ja -1, as Linux sanitizes it, so a dead write to r10 does not fail the load (%s)', async (engine) => {
  // jeq is always taken: the write to r10 is dead, and Linux accepts the program.
  const code = encode(assemble('mov %r0, 2\njeq %r0, 2, +2\nlddw %r10, 0x100000001\nexit'));
  const bytes = writeElf({ programs: [{ name: 'xdp', code }], functions: [{ name: 'dead', section: 'xdp', offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' });
  const obj = await new Runtime({ engine }).loadObject(bytes, { fileName: 'dead.o' });
  const program = obj.program('dead');
  expect(program.verdict.deadCode).toEqual([2]);
  expect(program.insns.map((i) => `${i.pc}:${i.op === Op.Ja ? `ja ${i.off}` : 'kept'}`)).toEqual(['0:kept', '1:kept', '2:ja -1', '3:ja -1', '4:kept']);
  expect(program.testRun({ dataIn: new Uint8Array(64) }).retval).toBe(2);
});

describe('loading program by program', () => {
  test('a rejected program is reported in failures; the others load and run', async () => {
    const obj = await new Runtime().loadObject(twoPrograms(), { fileName: 'two.o' });
    expect([...obj.programs.keys()]).toEqual(['good']);
    const failure = obj.failures.get('bad');
    expect(failure).toBeInstanceOf(VerifierError);
    expect(failure?.message).toBe("program 'bad' rejected by the verifier: pc 0: R5 !read_ok");
    expect(() => obj.program('bad')).toThrow(VerifierError);
    expect(obj.program('good').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(2);
  });

  test('asking for a program that does not verify fails the load; asking for the others skips it', async () => {
    await expect(new Runtime().loadObject(twoPrograms(), { fileName: 'two.o', programs: ['bad'] })).rejects.toThrow(/pc 0: R5 !read_ok/);
    const only = await new Runtime().loadObject(twoPrograms(), { fileName: 'two.o', programs: ['good'] });
    expect([...only.programs.keys()]).toEqual(['good']);
    expect(only.failures.size).toBe(0);
  });

  test('the JIT runs verified programs', async () => {
    const obj = await new Runtime({ engine: 'jit' }).loadObject(twoPrograms(), { fileName: 'two.o' });
    expect(obj.program('good').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(2);
    expect(obj.failures.get('bad')).toBeInstanceOf(VerifierError);
  });
});

describe('skipping verification', () => {
  test('the checked interpreter may run a program unverified, and says so', async () => {
    const obj = await new Runtime().loadObject(twoPrograms(), { fileName: 'two.o', unsafeSkipVerification: true });
    const bad = obj.program('bad');
    expect(bad.verified).toBe(false);
    expect(bad.verdict.reason).toMatch(/^not verified: verification was skipped on request/);
    // The interpreter traps at run time what the verifier would have refused.
    expect(() => bad.testRun({ dataIn: new Uint8Array(64) })).toThrow(/r5/i);
  });

  test('the JIT refuses to skip it', async () => {
    await expect(new Runtime({ engine: 'jit' }).loadObject(twoPrograms(), { fileName: 'two.o', unsafeSkipVerification: true }))
      .rejects.toThrow(RuntimeError);
    await expect(new Runtime({ engine: 'jit' }).loadObject(twoPrograms(), { fileName: 'two.o', unsafeSkipVerification: true }))
      .rejects.toThrow(/only with the checked interpreter/);
  });
});
