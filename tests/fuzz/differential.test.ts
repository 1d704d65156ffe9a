// The differential fuzzer (issue 3): a fixed-seed batch of generated programs must agree between
// the interpreter and the JIT, run without errors, and cover every generated row of the opcode
// table; the minimizer must shrink a divergence into a `.data` file that reproduces it.
// Runs the compiled modules in dist/ (build first: `npx tsc -p .`), as the .data suite does: under
// vitest's per-file transform the interpreter's const-enum dispatch is not inlined.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../support/suite.js';

type Generator = typeof import('../../fuzz/generator.js');
type Rows = typeof import('../../fuzz/rows.js');
type DifferentialModule = typeof import('../../fuzz/differential.js');
type Campaign = typeof import('../../fuzz/campaign.js');
type Minimize = typeof import('../../fuzz/minimize.js');
type RegressionModule = typeof import('../../fuzz/regression.js');
type Api = typeof import('../../index.js');
type CampaignReport = import('../../fuzz/campaign.js').CampaignReport;
type EngineUnderTest = import('../../fuzz/differential.js').EngineUnderTest;
type Instruction = import('../../isa/instruction.js').Instruction;
type OpcodeSpec = import('../../isa/opcodes.js').OpcodeSpec;

const DIST = join(PROJECT_ROOT, 'dist');
const load = async <T>(path: string): Promise<T> => {
  const file = join(DIST, path);
  if (!existsSync(file)) throw new Error(`${file} not found: build with \`npx tsc -p .\` before running this suite`);
  return (await import(file)) as T;
};
const { generateProgram } = await load<Generator>('fuzz/generator.js');
const { EXCLUDED_ROWS, GENERATED_ROWS } = await load<Rows>('fuzz/rows.js');
const { Differential, Lane, engineNamed } = await load<DifferentialModule>('fuzz/differential.js');
const { investigate, runCampaign } = await load<Campaign>('fuzz/campaign.js');
const { removeAtoms } = await load<Minimize>('fuzz/minimize.js');
const { regressionText } = await load<RegressionModule>('fuzz/regression.js');
const { OPCODES, LddwSrc, assemble, encode, make, parseDataFile, runProgram, testProgram } = await load<Api>('index.js');

/** The fixed-seed batch `npm test` runs: interpreter against itself, for the generator's checks. */
const BATCH = { count: 3000, seed: 1 };
/** The same batch on the interpreter against the JIT (about 5 s a thousand); `npm run fuzz` runs more. */
const JIT_BATCH = { count: Number(process.env.FUZZ_JIT_COUNT ?? 3000), seed: 1 };

const interp = engineNamed('interp');

let batch: CampaignReport;
beforeAll(async () => {
  batch = await runCampaign(new Differential([interp, interp]), BATCH);
});

function describeDivergences(report: CampaignReport): string {
  return report.divergences.slice(0, 10).map((d) => `seed ${d.seed}: ${d.comparison.divergence!.details.join('; ')}`).join('\n');
}

/** An engine that runs the interpreter on a deliberately miscompiled program. */
function mutant(name: string, mutate: (insn: Instruction) => Instruction): EngineUnderTest {
  return { name, create: (insns, options) => interp.create(insns.map(mutate), options) };
}

const row = (mnemonic: string, register: boolean): OpcodeSpec =>
  OPCODES.find((r) => r.mnemonic === mnemonic && ((r.opcode & 0x08) !== 0) === register)!;

describe('program generator', () => {
  test('is deterministic: a seed gives the same program and input', () => {
    for (const seed of [1, 2, 0xffffffff]) {
      const [a, b] = [generateProgram(seed), generateProgram(seed)];
      expect(encode(a.insns)).toEqual(encode(b.insns));
      expect(a.input).toEqual(b.input);
    }
    expect(encode(generateProgram(1).insns)).not.toEqual(encode(generateProgram(2).insns));
  });

  test('keeps programs modest: 20 to ~330 instructions', () => {
    const sizes = Array.from({ length: 300 }, (_, i) => generateProgram(i).insns.length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(360);
  });

  test(`${BATCH.count} programs (seed ${BATCH.seed}): at least 99% run to completion without any error on the interpreter`, () => {
    const errors = [...batch.agreedErrors.values()].reduce((a, b) => a + b, 0);
    expect(batch.divergences, describeDivergences(batch)).toHaveLength(0);
    expect(errors, `errors: ${[...batch.agreedErrors].map(([n, c]) => `${c} ${n}`).join(', ')}`).toBeLessThanOrEqual(BATCH.count / 100);
  });

  test('excludes exactly the legacy packet loads, call by BTF id and lddw map/BTF pseudo-sources', () => {
    const excluded = EXCLUDED_ROWS.map(({ row: r }) => (r.form === 'lddw' ? `lddw src ${r.src}` : r.mnemonic)).sort();
    expect(excluded).toEqual([
      'call', // call by BTF id (src 2)
      'ldabsb', 'ldabsh', 'ldabsw', 'ldindb', 'ldindh', 'ldindw',
      `lddw src ${LddwSrc.BTF_ID}`, `lddw src ${LddwSrc.MAP_FD}`, `lddw src ${LddwSrc.MAP_IDX}`,
      `lddw src ${LddwSrc.MAP_IDX_VALUE}`, `lddw src ${LddwSrc.MAP_VALUE}`,
    ].sort());
    expect(EXCLUDED_ROWS.find(({ row: r }) => r.mnemonic === 'call')!.row.form).toBe('callbtf');
    expect(GENERATED_ROWS.length + EXCLUDED_ROWS.length).toBe(OPCODES.length);
  });

  test('emits every other row of the opcode table across the batch', () => {
    const missing = GENERATED_ROWS.filter((r) => !batch.opCounts.has(r.op))
      .map((r) => `${r.mnemonic} (opcode 0x${r.opcode.toString(16)}, ${r.form})`);
    expect(missing).toEqual([]);
    // ALU, JMP/JMP32, loads, stores, atomics, both lddw kinds, helper/local/indirect calls, exit.
    const forms = new Set(GENERATED_ROWS.map((r) => r.form));
    for (const form of ['alu', 'unary', 'jcc', 'ja', 'ja32', 'ldx', 'st', 'stx', 'atomic', 'lddw', 'call', 'calllocal', 'callx', 'exit'] as const) {
      expect(forms.has(form), form).toBe(true);
    }
    expect(GENERATED_ROWS.filter((r) => r.form === 'lddw').map((r) => r.src).sort()).toEqual([LddwSrc.IMM64, LddwSrc.FUNC]);
  });
});

describe('engines agree', () => {
  test(`interpreter and JIT on ${JIT_BATCH.count} programs (seed ${JIT_BATCH.seed})`, async () => {
    const report = await runCampaign(new Differential([interp, engineNamed('jit')]), JIT_BATCH);
    expect(report.divergences, `divergences (reproduce: npm run fuzz -- --seed S --count 1):\n${describeDivergences(report)}`).toHaveLength(0);
  });
});

describe('minimizer', () => {
  test('removing atoms keeps programs valid and terminating; only register reads can fail', async () => {
    const lane = new Lane(interp);
    for (let seed = 0; seed < 100; seed++) {
      const program = generateProgram(seed);
      const remove = new Set(program.atoms.flatMap((a, k) => (!a.fixed && a.unit === undefined && (seed * 7 + k) % 3 === 0 ? [k] : [])));
      const smaller = removeAtoms(program, remove);
      expect(smaller.insns.length).toBeLessThan(program.insns.length);
      const outcome = await lane.run(smaller.insns, smaller.input);
      if (outcome.error) expect(outcome.error.name, `seed ${seed}: ${outcome.error.message}`).toBe('UninitializedRegisterError');
    }
  });

  test('shrinks a miscompiled rsh32 to a small .data test that reproduces on the interpreter', async () => {
    const [rsh32, arsh32] = [row('rsh32', false), row('arsh32', false)];
    const differential = new Differential([interp, mutant('rsh32-as-arsh32', (i) => (i.op === rsh32.op ? make(arsh32, i) : i))]);
    const report = await runCampaign(differential, { count: 300, seed: 1 });
    expect(report.divergences.length).toBeGreaterThan(0);
    const regression = await investigate(differential, report.divergences[0]!);
    expect(regression.program.insns.length).toBeLessThan(regression.originalLength / 2);
    expect(regression.program.insns.some((i) => i.op === rsh32.op)).toBe(true);
    expect(regression.divergence.parts).toContain('r0');

    const text = regressionText(regression);
    const parsed = parseDataFile(text, 'regression.data')!;
    const insns = testProgram(parsed, 'regression.data');
    expect(encode(insns)).toEqual(encode(regression.program.insns));
    expect(parsed.mem).toEqual(regression.program.input);
    expect(await runProgram(insns, parsed.mem, 'interp')).toBe(parsed.result);
    expect((await differential.compare(insns, parsed.mem)).divergence?.parts).toContain('r0');
  });

  test('folds a divergence seen only in memory into r0', async () => {
    const stb = row('stb', false);
    const differential = new Differential([interp, mutant('stb-flips-bit-6', (i) => (i.op === stb.op ? { ...i, imm: i.imm ^ 0x40 } : i))]);
    const report = await runCampaign(differential, { count: 300, seed: 1 });
    // One main can see: in the buffer, or in main's own frame (a callee's frame is out of its reach).
    const memoryOnly = report.divergences.find((d) => {
      const divergence = d.comparison.divergence!;
      return !divergence.parts.includes('r0') && (divergence.bufferOffset !== undefined || (divergence.stackDepth ?? Infinity) <= 512);
    });
    expect(memoryOnly).toBeDefined();
    const regression = await investigate(differential, memoryOnly!);
    expect(regression.folded).toBe(true);
    const parsed = parseDataFile(regressionText(regression), 'regression.data')!;
    const insns = testProgram(parsed, 'regression.data');
    expect(await runProgram(insns, parsed.mem, 'interp')).toBe(parsed.result);
    expect((await differential.compare(insns, parsed.mem)).divergence?.parts).toContain('r0');
  });
});
