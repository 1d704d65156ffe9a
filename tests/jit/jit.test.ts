// The JIT on its own: modules that an independent validator (wabt) accepts, golden WebAssembly
// text, the module cache, lazy loading of binaryen, tail-call chains, and `both` failing loudly.
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { helperTable, MAX_TAIL_CALLS, type HelperSpec } from '../../helpers/table.js';
import { CONFORMANCE_HELPERS } from '../../conformance/helpers.js';
import { parseDataFile } from '../../conformance/data-file.js';
import { testProgram } from '../../conformance/runner.js';
import { createExecutor, EngineMismatchError, RunStats, type EngineKind, type Executor } from '../../runtime/engine.js';
import { GuestMemory } from '../../runtime/memory.js';
import { BudgetExhaustedError } from '../../runtime/execution-errors.js';
import { compileToWasm } from '../../jit/index.js';
import { compileCached } from '../../jit/executor.js';
import { PROJECT_ROOT, SUITE_DIR, suiteAvailable } from '../support/suite.js';
import { GOLDEN_PROGRAMS } from './programs.js';

const wabt = await wabtInit();
const FEATURES = { mutable_globals: true, sign_extension: true, bulk_memory: true, reference_types: true };

function wabtValidates(binary: Uint8Array): void {
  const mod = wabt.readWasm(binary, { readDebugNames: false, ...FEATURES });
  try {
    mod.validate();
  } finally {
    mod.destroy();
  }
}

describe('JIT-compiled modules', () => {
  test.skipIf(!suiteAvailable())('every conformance program compiles to a module wabt validates', async () => {
    const files = readdirSync(SUITE_DIR).filter((f) => f.endsWith('.data'));
    expect(files.length).toBe(313);
    for (const file of files) {
      const test = parseDataFile(readFileSync(join(SUITE_DIR, file), 'utf8'), file)!;
      const { binary } = await compileToWasm(testProgram(test, file));
      expect(() => wabtValidates(binary), file).not.toThrow();
    }
  });

  test.for(Object.entries(GOLDEN_PROGRAMS))('golden WebAssembly text: %s', async ([name, asm]) => {
    const { text, binary } = await compileToWasm(assemble(asm), { text: true });
    wabtValidates(binary);
    const golden = join(PROJECT_ROOT, 'tests', 'jit', 'golden', `${name}.wat`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text!);
    expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  test('compiled modules are cached by program bytes and options', async () => {
    const insns = assemble('mov %r0, 77\nexit');
    const a = await compileCached(insns);
    const b = await compileCached(assemble('mov %r0, 77\nexit'));
    const c = await compileCached(insns, { optimize: 0 });
    const d = await compileCached(insns, {}, 'other relocations');
    expect(b.module).toBe(a.module);
    expect(c.module).not.toBe(a.module);
    expect(d.module).not.toBe(a.module);
  });

  test('the cache is bounded, dropping the least recently used module', async () => {
    const { setJitCacheLimit } = await import('../../jit/executor.js');
    setJitCacheLimit(2);
    try {
      const p = (n: number) => assemble(`mov %r0, ${n}\nexit`);
      const first = await compileCached(p(1));
      await compileCached(p(2));
      expect((await compileCached(p(1))).module).toBe(first.module); // 1 is now the most recent
      await compileCached(p(3)); // evicts 2
      expect((await compileCached(p(1))).module).toBe(first.module);
      const second = await compileCached(p(2));
      expect((await compileCached(p(2))).module).toBe(second.module);
    } finally {
      setJitCacheLimit(256);
    }
  });

  test('cache keys are SHA-256 in plain JavaScript (the same in browsers), equal to node:crypto\'s', async () => {
    const { createHash } = await import('node:crypto');
    const { sha256Hex } = await import('../../jit/sha256.js');
    // Lengths around the 55/56/64-byte block edges, and longer.
    for (const length of [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000, 4097]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
      expect(sha256Hex(bytes), `${length} bytes`).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  test('binaryen is imported by exactly one file, and only when the JIT is used', () => {
    const sources = readdirSync(PROJECT_ROOT, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith('node_modules') && !f.startsWith('dist') && !f.startsWith('tests'));
    const importers = sources.filter((f) => /from 'binaryen'|import\('binaryen'\)/.test(readFileSync(join(PROJECT_ROOT, f), 'utf8')));
    expect(importers).toEqual(['jit/binaryen.ts']);
    expect(readFileSync(join(PROJECT_ROOT, 'jit', 'binaryen.ts'), 'utf8')).toMatch(/import type binaryenNamespace from 'binaryen'/);
  });
});

describe('repeats inside WebAssembly', () => {
  const helper = (id: number, name: string): HelperSpec => ({ id, name, proto: { ret: 'integer', args: [] }, impl: (call) => call.returnNumber(7) });
  const executor = (asm: string, helpers: HelperSpec[], stats?: RunStats) =>
    createExecutor(assemble(asm), 'jit', { memory: new GuestMemory(), helpers: helperTable(helpers), ...(stats ? { stats } : {}) });

  test('a program calling only helpers that keep no state of a run on the host repeats in WebAssembly, every run counted', async () => {
    const stats = new RunStats();
    const exec = await executor('call 5\n add %r0, %r1\n exit', [helper(5, 'bpf_ktime_get_ns')], stats);
    expect(exec.repeatContext(100, 1000)).toBe(107);
    expect(stats.runs).toBe(1000);
  });

  test('other helpers, or a known id under another name, leave the repeats to the caller', async () => {
    for (const h of [helper(23, 'bpf_redirect'), helper(5, 'my_helper')]) {
      const exec = await executor(`call ${h.id}\n exit`, [h]);
      expect(exec.repeatContext(100, 1000), h.name).toBeUndefined();
      expect(exec.runContext(100)).toBe(7);
    }
  });
});

describe('tail calls', () => {
  /** Programs that each add their number to a counter on the stack of... (context r1 = a memory block) and tail-call the next. */
  async function chain(engine: EngineKind, length: number) {
    const memory = new GuestMemory();
    const counter = memory.allocate(8, 'counter');
    const programs: Executor[] = [];
    // Helper 12 (bpf_tail_call): r1 = ctx, r3 = index of the program to continue with; returns -ENOENT when it cannot.
    const tailCall: HelperSpec = {
      id: 12, name: 'tail_call', proto: { ret: 'integer', args: ['ptr_to_ctx', 'const_map_ptr', 'anything'] },
      impl(call) {
        const target = programs[call.argU32(3)];
        if (!target || !call.canTailCall()) return call.returnNumber(-2);
        call.requestTailCall(target, call.arg(1));
      },
    };
    const helpers = helperTable([tailCall]);
    // Each program adds 1 to the counter, then tail-calls program (index + 1); a failed tail call returns the counter.
    for (let i = 0; i < length; i++) {
      const asm = `mov %r6, %r1\nldxdw %r2, [%r6+0]\nadd %r2, 1\nstxdw [%r6+0], %r2\nmov %r1, %r6\nmov %r2, 0\nmov %r3, ${i + 1}\ncall 12\nldxdw %r0, [%r6+0]\nexit`;
      programs.push(await createExecutor(assemble(asm), engine, { memory, helpers, resolveTailCall: (target) => target as Executor }));
    }
    const result = programs[0]!.run({ args: [counter.start] });
    return { r0: result.r0, counter: memory.view.getBigUint64(counter.start, true) };
  }

  test.for(['interp', 'jit'] as const)('a chain runs each program once and stops at 33 tail calls (%s)', async (engine) => {
    expect(await chain(engine, 5)).toEqual({ r0: 5n, counter: 5n });
    // 40 programs: the first runs, then 33 tail calls succeed, and the 34th fails, so 34 programs run.
    expect(await chain(engine, 40)).toEqual({ r0: BigInt(MAX_TAIL_CALLS + 1), counter: BigInt(MAX_TAIL_CALLS + 1) });
  });
});

describe('the loop budget', () => {
  // 10 rounds, each calling a function that loops 5 times: 9 back edges in the caller, 40 in the callee.
  const nested = 'mov %r6, 10\nouter:\ncall local f\nsub %r6, 1\njne %r6, 0, outer\nexit\nf:\nmov %r1, 5\ninner:\nsub %r1, 1\njne %r1, 0, inner\nmov %r0, 7\nexit';

  test('a caller and the loops of the functions it calls spend one budget', async () => {
    const run = async (budget: number) => (await createExecutor(assemble(nested), 'jit', { memory: new GuestMemory(), helpers: CONFORMANCE_HELPERS, budget })).run();
    expect((await run(49)).r0).toBe(7n);
    // The error names the back edge that found the budget spent: the callee's at 48, the caller's at 4.
    await expect(run(48)).rejects.toThrow(BudgetExhaustedError);
    await expect(run(48)).rejects.toMatchObject({ pc: 7 });
    await expect(run(4)).rejects.toMatchObject({ pc: 3 });
  });

  test.for([
    // 9 back edges at most: the unchecked copy runs with a budget of 9, the checked loop with 8.
    { name: 'a counted loop', asm: 'mov %r0, 0\nmov %r2, 0\nloop:\nadd %r0, %r2\nadd %r2, 1\njne %r2, 10, loop\nexit', enough: 9, r0: 45n, pc: 4 },
    // It leaves after 3 back edges, though it could take 9: a budget of 3 is enough, on the checked loop.
    { name: 'a counted loop that leaves early', asm: 'mov %r0, 0\nmov %r2, 0\nloop:\njeq %r2, 3, out\nadd %r0, 1\nadd %r2, 1\njne %r2, 10, loop\nout:\nexit', enough: 3, r0: 3n, pc: 5 },
  ])('$name spends the budget as any loop does', async ({ asm, enough, r0, pc }) => {
    const run = async (budget: number) => (await createExecutor(assemble(asm), 'jit', { memory: new GuestMemory(), helpers: CONFORMANCE_HELPERS, budget })).run();
    expect((await run(enough)).r0).toBe(r0);
    await expect(run(enough - 1)).rejects.toThrow(BudgetExhaustedError);
    await expect(run(enough - 1)).rejects.toMatchObject({ pc });
  });
});

describe('engine both', () => {
  test('fails loudly when the engines disagree', async () => {
    let calls = 0;
    // A helper that answers differently on each call makes the two runs differ.
    const helpers = helperTable([{ id: 7, name: 'counter', proto: { ret: 'integer', args: [] }, impl: (call) => call.returnNumber(++calls) }]);
    const executor = await createExecutor(assemble('call 7\nexit'), 'both', { memory: new GuestMemory(), helpers });
    expect(() => executor.run()).toThrow(EngineMismatchError);
    expect(() => executor.run()).toThrow(/interpreter and JIT disagree: interpreter: r0 0x3; JIT: r0 0x4/);
  });

  test('under both, a -- error test met by an interpreter-only check passes without running the JIT', async () => {
    const { runConformance } = await import('../../conformance/files.js');
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-both-'));
    // r0 is read before it is written: the interpreter traps, the JIT (relying on the verifier) does not,
    // so 'both' reports the interpreter's own check without running the JIT: a pass.
    writeFileSync(join(dir, 'uninit.data'), '-- asm\nexit\n-- error\nuninitialized-register\n');
    expect((await runConformance([dir], { engine: 'both' })).passed).toBe(1);
  });

  test('compares memory the program wrote, not just r0', async () => {
    let calls = 0;
    const memory = new GuestMemory();
    const block = memory.allocate(8, 'block');
    const helpers = helperTable([{ id: 7, name: 'counter', proto: { ret: 'integer', args: [] }, impl: (call) => call.returnNumber(++calls) }]);
    const executor = await createExecutor(assemble('mov %r6, %r1\ncall 7\nstxb [%r6+3], %r0\nmov %r0, 0\nexit'), 'both', { memory, helpers });
    expect(() => executor.run({ args: [block.start] })).toThrow(/memory differs after the run: at 0x[0-9a-f]+ in block/);
  });

  test.for([0x1234_5678_8000_0001n, 0xffff_ffff_7fff_ffffn, 0n])('shift pairs that extend a low half agree with the shifts (%s)', async (value) => {
    // Zero-extension, sign-extension, and a pair split by a jump target, which stays two shifts.
    const asm = 'mov %r0, %r1\nlsh %r0, 32\nrsh %r0, 32\nmov %r2, %r1\nlsh %r2, 32\narsh %r2, 32\nxor %r0, %r2\nlsh %r1, 32\nja +0\narsh %r1, 32\nadd %r0, %r1\nexit';
    const executor = await createExecutor(assemble(asm), 'both', { memory: new GuestMemory(), helpers: CONFORMANCE_HELPERS });
    const low = value & 0xffff_ffffn;
    const signed = BigInt.asUintN(64, BigInt.asIntN(32, low));
    expect(executor.run({ args: [value] }).r0).toBe(BigInt.asUintN(64, (low ^ signed) + signed));
  });

  test('agrees, and returns the interpreter result with its instruction count', async () => {
    const executor = await createExecutor(assemble('mov %r0, 1\nlsh %r0, 63\narsh %r0, 70\nexit'), 'both', { memory: new GuestMemory(), helpers: CONFORMANCE_HELPERS });
    expect(executor.run()).toMatchObject({ r0: 0xfe00000000000000n, instructions: 4 });
  });
});
