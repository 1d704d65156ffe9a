// Ahead-of-time output: `ebpf-wasm compile` writes a standalone .wasm that a small host of its own
// (a memory, a trap import, the helpers) instantiates and runs with the same results as the
// in-process JIT. The host below uses nothing from ebpf-wasm: it follows the README's contract.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { CONFORMANCE_HELPERS } from '../../conformance/helpers.js';
import { createExecutor } from '../../runtime/engine.js';
import { GuestMemory } from '../../runtime/memory.js';
import { PROJECT_ROOT } from '../support/suite.js';

const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-aot-'));

function compileWithCli(asmFile: string): Uint8Array {
  const out = join(dir, 'program.wasm');
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), 'compile', asmFile, '-o', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return new Uint8Array(readFileSync(out));
}

/** A host of its own: guest memory, r1..r5 in a register file at REGS, the stack ending at STACK_TOP. */
function runStandalone(wasm: Uint8Array, data: Uint8Array, helpers: Record<number, (regs: DataView) => void> = {}): bigint {
  const REGS = 0x100;
  const DATA = 0x1000;
  const STACK_TOP = 0x3000;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const view = new DataView(memory.buffer);
  new Uint8Array(memory.buffer).set(data, DATA);
  view.setBigUint64(REGS + 8, BigInt(DATA), true);
  view.setBigUint64(REGS + 16, BigInt(data.length), true);
  const env: WebAssembly.ModuleImports = {
    memory,
    trap: (code: number, pc: number) => { throw new Error(`trap ${code} at pc ${pc}`); },
    callx_helper: (id: number, pc: number) => { throw new Error(`no helper ${id} at pc ${pc}`); },
  };
  for (const [id, fn] of Object.entries(helpers)) env[`helper_${id}`] = () => fn(view);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env });
  (exports.run as (regs: number, fp: number, packet: number, packetLength: number, budget: number) => void)(REGS, STACK_TOP, DATA, data.length, 1_000_000);
  return view.getBigUint64(REGS, true);
}

async function inProcess(asm: string, data: Uint8Array): Promise<bigint> {
  const memory = new GuestMemory();
  const block = memory.allocate(data.length, 'data');
  memory.bytes.set(data, block.start);
  const jit = await createExecutor(assemble(asm), 'jit', { memory, helpers: CONFORMANCE_HELPERS });
  return jit.run({ args: [block.start, data.length] }).r0;
}

describe('ahead-of-time compilation', () => {
  test('the shipped checksum example runs standalone with the JIT\'s result', async () => {
    const header = new Uint8Array(readFileSync(join(PROJECT_ROOT, 'examples', 'ipv4-header.bin')));
    const asm = readFileSync(join(PROJECT_ROOT, 'examples', 'checksum.asm'), 'utf8');
    const standalone = runStandalone(compileWithCli(join(PROJECT_ROOT, 'examples', 'checksum.asm')), header);
    expect(standalone).toBe(0xb861n);
    expect(standalone).toBe(await inProcess(asm, header));
  });

  test('helpers are imports that read r1..r5 from the register file and write r0 there', async () => {
    const asm = 'ldxb %r1, [%r1+0]\nmul %r1, 3\ncall 5\nadd %r0, 1\nexit';
    const file = join(dir, 'helper.asm');
    writeFileSync(file, asm);
    // helper 5 as the conformance suite defines it: r0 = r1.
    const standalone = runStandalone(compileWithCli(file), Uint8Array.of(14), { 5: (regs) => regs.setBigUint64(0x100, regs.getBigUint64(0x108, true), true) });
    expect(standalone).toBe(43n);
    expect(standalone).toBe(await inProcess(asm, Uint8Array.of(14)));
  });
});
