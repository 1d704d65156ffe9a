// `ebpf-wasm asm` and `ebpf-wasm disasm`: assembler text to raw program bytes and back.
import { writeFileSync } from 'node:fs';
import { disassemble, encode } from '../index.js';
import { loadProgram } from './input.js';

export function asmCommand(file: string, options: { output?: string }): void {
  const bytes = encode(loadProgram(file).insns);
  if (options.output) {
    writeFileSync(options.output, bytes);
    process.stdout.write(`wrote ${bytes.length / 8} instructions (${bytes.length} bytes) to ${options.output}\n`);
  } else {
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += 8) lines.push(Buffer.from(bytes.subarray(at, at + 8)).toString('hex'));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

export function disasmCommand(file: string): void {
  process.stdout.write(`${disassemble(loadProgram(file).insns)}\n`);
}
