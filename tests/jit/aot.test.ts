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
import { loopHelper } from '../../helpers/callbacks.js';
import { helperTable, type HelperTable } from '../../helpers/table.js';
import { createExecutor } from '../../runtime/engine.js';
import { GuestMemory } from '../../runtime/memory.js';
import { PROJECT_ROOT } from '../support/suite.js';

const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-aot-'));

function compileWithCli(asmFile: string): Uint8Array {
  const out = join(dir, 'program.wasm');
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'ebpf-wasm.mjs'), 'compile', asmFile, '-o', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return new Uint8Array(readFileSync(out));
}

const REGS = 0x100;

/** What a host helper sees: the memory, the module's exports, and the pc of its call. */
interface Host {
  readonly view: DataView;
  readonly exports: WebAssembly.Exports;
  readonly pc: number;
}

/** A host of its own: guest memory, r1..r5 in a register file at REGS, the stack ending at STACK_TOP. */
function runStandalone(wasm: Uint8Array, data: Uint8Array, helpers: Record<number, (host: Host) => void> = {}): bigint {
  const DATA = 0x1000;
  const STACK_TOP = 0x3000;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const view = new DataView(memory.buffer);
  new Uint8Array(memory.buffer).set(data, DATA);
  view.setBigUint64(REGS + 16, BigInt(data.length), true);
  const env: WebAssembly.ModuleImports = {
    memory,
    trap: (code: number, pc: number) => { throw new Error(`trap ${code} at pc ${pc}`); },
    callx_helper: (id: number, pc: number) => { throw new Error(`no helper ${id} at pc ${pc}`); },
  };
  let exports: WebAssembly.Exports = {};
  for (const [id, fn] of Object.entries(helpers)) env[`helper_${id}`] = (pc: number) => fn({ view, exports, pc });
  ({ exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env }));
  type Run = (regs: number, r1Lo: number, r1Hi: number, argsInFile: number, fp: number, packet: number, packetLength: number, budget: number) => number;
  (exports.run as Run)(REGS, DATA, 0, 1, STACK_TOP, DATA, data.length, 1_000_000);
  return view.getBigUint64(REGS, true);
}

async function inProcess(asm: string, data: Uint8Array, helpers: HelperTable = CONFORMANCE_HELPERS): Promise<bigint> {
  const memory = new GuestMemory();
  const block = memory.allocate(data.length, 'data');
  memory.bytes.set(data, block.start);
  const jit = await createExecutor(assemble(asm), 'jit', { memory, helpers });
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
    const standalone = runStandalone(compileWithCli(file), Uint8Array.of(14), { 5: ({ view }) => view.setBigUint64(REGS, view.getBigUint64(REGS + 8, true), true) });
    expect(standalone).toBe(43n);
    expect(standalone).toBe(await inProcess(asm, Uint8Array.of(14)));
  });

  test('a helper runs the program\'s callbacks through the callback export (bpf_loop)', async () => {
    // Sums the loop indexes into a stack slot through the callback's context pointer.
    const asm = 'stdw [%r10-8], 0\nmov %r1, 5\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n'
      + 'ldxdw %r1, [%r10-8]\nlsh %r0, 8\nadd %r0, %r1\nexit\ncb:\nldxdw %r3, [%r2+0]\nadd %r3, %r1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit';
    const file = join(dir, 'loop.asm');
    writeFileSync(file, asm);
    // bpf_loop as a host writes it: read the arguments first, then r1..r5 in, callback(slot, pc), r0 out.
    const loop = ({ view, exports, pc }: Host) => {
      const count = view.getUint32(REGS + 8, true);
      const slot = view.getUint32(REGS + 16, true);
      const ctx = view.getBigUint64(REGS + 24, true);
      let i = 0;
      while (i < count) {
        view.setBigUint64(REGS + 8, BigInt(i), true);
        view.setBigUint64(REGS + 16, ctx, true);
        (exports.callback as (slot: number, pc: number) => void)(slot, pc);
        i++;
        if (view.getBigUint64(REGS, true) !== 0n) break;
      }
      view.setBigUint64(REGS, BigInt(i), true);
    };
    const standalone = runStandalone(compileWithCli(file), Uint8Array.of(0), { 181: loop });
    expect(standalone).toBe((5n << 8n) + 10n);
    expect(standalone).toBe(await inProcess(asm, Uint8Array.of(0), helperTable([loopHelper])));
  });
});
