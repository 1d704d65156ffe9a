// `ebpf-wasm asm`, `disasm` and `compile`: assembler text to raw program bytes and back, and a
// program to a standalone WebAssembly module (its imports are in jit/abi.ts and the README).
import { BpfError, compileToWasm, disassemble, encode, formatObjdump, objectListing } from '../index.js';
import { UsageError } from './errors.js';
import { loadProgram, readInput, writeOutput } from './input.js';

export function asmCommand(file: string, options: { output?: string }): void {
  const bytes = encode(loadProgram(file).insns);
  if (options.output) {
    writeOutput(options.output, bytes);
    process.stdout.write(`wrote ${bytes.length / 8} instructions (${bytes.length} bytes) to ${options.output}\n`);
  } else {
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += 8) lines.push(Buffer.from(bytes.subarray(at, at + 8)).toString('hex'));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

export function disasmCommand(file: string, options: { objdump?: boolean; alu32?: boolean; source?: boolean }): void {
  const bytes = readInput(file);
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46) {
    // An ELF object: every code section, as `llvm-objdump -d` prints it.
    try {
      process.stdout.write(objectListing(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), file, { source: Boolean(options.source), alu32: Boolean(options.alu32) }));
    } catch (err) {
      if (err instanceof BpfError && err.code === 'usage') throw new UsageError(err.message);
      throw err;
    }
    return;
  }
  if (options.source) throw new UsageError(`${file}: --source needs an ELF object with BTF line info`);
  const insns = loadProgram(file).insns;
  const text = options.objdump ? insns.map((i) => formatObjdump(i, { alu32: Boolean(options.alu32) })).join('\n') : disassemble(insns);
  process.stdout.write(`${text}\n`);
}

export async function compileCommand(file: string, options: { output?: string; emitWat?: boolean; optimize?: string }): Promise<void> {
  const optimize = options.optimize === undefined ? 1 : Number(options.optimize);
  if (!Number.isInteger(optimize) || optimize < 0 || optimize > 4) throw new UsageError(`--optimize: '${options.optimize}' is not 0, 1, 2, 3 or 4`);
  if (!options.output && !options.emitWat) throw new UsageError('compile: give -o OUT.wasm, --emit-wat, or both');
  const compiled = await compileToWasm(loadProgram(file).insns, { optimize, text: Boolean(options.emitWat) });
  if (options.emitWat) process.stdout.write(compiled.text!);
  if (options.output) {
    writeOutput(options.output, compiled.binary);
    process.stderr.write(`wrote ${compiled.binary.length} bytes of WebAssembly to ${options.output}\n`);
  }
}
