// `ebpf-wasm asm`, `disasm` and `compile`: assembler text to raw program bytes and back, and a
// program to a standalone WebAssembly module (its imports are in jit/abi.ts and the README).
import { codeSections, compileToWasm, disassemble, encode, formatObjdump, objdumpListing, readBtf, readBtfExt, readElf, type ListingSection } from '../index.js';
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
    const elf = readElf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), file);
    let sections: readonly ListingSection[] = codeSections(elf);
    if (options.source) sections = withSource(file, elf, sections);
    process.stdout.write(objdumpListing(file, sections, { alu32: Boolean(options.alu32) }));
    return;
  }
  if (options.source) throw new UsageError(`${file}: --source needs an ELF object with BTF line info`);
  const insns = loadProgram(file).insns;
  const text = options.objdump ? insns.map((i) => formatObjdump(i, { alu32: Boolean(options.alu32) })).join('\n') : disassemble(insns);
  process.stdout.write(`${text}\n`);
}

/** Sections with the source line each BTF line-info record starts, as bpftool prints them: `line @ file:n`. */
function withSource(file: string, elf: ReturnType<typeof readElf>, sections: readonly ListingSection[]): ListingSection[] {
  const ext = readBtfExt(elf, readBtf(elf));
  if (!ext || ext.lineInfo.length === 0) throw new UsageError(`${file}: --source: the object has no BTF line info (compile with -g)`);
  return sections.map((section) => {
    const records = ext.lineInfo.find((s) => s.section === section.name)?.records ?? [];
    const source = new Map<number, string>();
    let previous = '';
    for (const r of records) {
      // Records that differ only in the column repeat the line; print it once.
      const text = `${r.line.trim()} @ ${r.fileName.split('/').pop()}:${r.lineNumber}`;
      if (text !== previous) source.set(r.pc, text);
      previous = text;
    }
    return { ...section, source };
  });
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
