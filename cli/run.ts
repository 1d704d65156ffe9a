// `ebpf-wasm run`: runs a program on an engine over a block of memory (r1 = its address,
// r2 = its length) and prints r0.
import { bareProgramRefusal, compileToWasm, CONFORMANCE_HELPERS, createExecutor, formatInstruction, GuestMemory, type TraceEvent } from '../index.js';
import { parseEngine } from './conformance.js';
import { integerOption, loadProgram, parseHexBytes, readInput } from './input.js';
import { UsageError } from './errors.js';

export interface RunOptions {
  mem?: string;
  memFile?: string;
  trace?: boolean;
  budget?: string;
  json?: boolean;
  engine?: string;
  emitWat?: boolean;
}

function hex64(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function formatTrace(e: TraceEvent): string {
  const regs = e.registers
    .map((v, r) => ((e.initialized >> r) & 1 ? `r${r}=${hex64(v)}` : ''))
    .filter((s) => s !== '')
    .join(' ');
  return `${String(e.pc).padStart(5)}  ${'  '.repeat(e.depth)}${formatInstruction(e.insn).padEnd(28)} ${regs}`;
}

export async function runCommand(file: string, options: RunOptions): Promise<void> {
  const engine = parseEngine(options.engine ?? 'interp');
  const program = loadProgram(file);
  let mem = program.mem ?? new Uint8Array(0);
  if (options.mem !== undefined) mem = parseHexBytes(options.mem, '--mem');
  if (options.memFile !== undefined) mem = new Uint8Array(readInput(options.memFile));
  const budget = integerOption(options.budget, '--budget', 1, 0x7fffffff);
  if (options.trace && engine !== 'interp') throw new UsageError('--trace: only the interpreter traces (use --engine interp)');
  if (options.emitWat) {
    if (engine === 'interp') throw new UsageError('--emit-wat: the interpreter runs no WebAssembly (use --engine jit)');
    process.stdout.write((await compileToWasm(program.insns, { text: true })).text!);
  }

  // A bare program has no program type: it is verified as the conformance convention runs it (r1
  // points at the memory, r2 holds its size). The JIT runs verified programs only; the checked
  // interpreter runs any program (the unsafe opt-out) and traps what the verifier would refuse.
  let verified = false;
  if (engine !== 'interp') {
    const refusal = bareProgramRefusal(file, program.insns, mem.length);
    if (refusal !== undefined) {
      throw new UsageError(`${file}: the JIT runs verified programs only, and the verifier refuses this one: ${refusal} (run it with --engine interp, which checks each access as it runs)`);
    }
    verified = true;
  }

  const memory = new GuestMemory();
  const block = mem.length > 0 ? memory.allocate(mem.length, 'input memory') : undefined;
  if (block) memory.bytes.set(mem, block.start);
  const address = block?.start ?? 0;
  const lines: string[] = [];
  const executor = await createExecutor(program.insns, engine, {
    memory,
    helpers: CONFORMANCE_HELPERS,
    ...(budget !== undefined ? { budget } : {}),
    ...(options.trace ? { trace: (e: TraceEvent) => lines.push(formatTrace(e)) } : {}),
  });
  let result;
  try {
    result = executor.run({ args: [address, mem.length], packet: { start: address, end: address + mem.length } });
  } finally {
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  }
  const memOut = block ? memory.bytes.slice(block.start, block.end) : new Uint8Array(0);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({
      file,
      engine,
      verified,
      r0: hex64(result.r0),
      ...(result.instructions !== undefined ? { instructions: result.instructions } : {}),
      ...(program.expected !== undefined ? { expected: hex64(program.expected), matches: program.expected === result.r0 } : {}),
      memory: Buffer.from(memOut).toString('hex'),
    })}\n`);
    return;
  }
  const signed = BigInt.asIntN(64, result.r0);
  process.stdout.write(`r0 = ${hex64(result.r0)} (${signed})\n`);
  if (result.instructions !== undefined) process.stdout.write(`executed ${result.instructions} instructions\n`);
  if (program.expected !== undefined) {
    const ok = program.expected === result.r0;
    process.stdout.write(`expected ${hex64(program.expected)}: ${ok ? 'ok' : 'MISMATCH'}\n`);
    if (!ok) process.exitCode = 1;
  }
}
