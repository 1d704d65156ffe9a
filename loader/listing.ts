// An object's code as `llvm-objdump -d` prints it, optionally with the source line each BTF
// line-info record starts (`line @ file:n`, as bpftool prints them): `ebpf-wasm disasm` and the
// playground show the same listing.
import { BpfError } from '../isa/errors.js';
import { objdumpListing, type ListingSection } from '../isa/objdump.js';
import { readBtf } from './btf.js';
import { readBtfExt } from './btf-ext.js';
import { codeSections, readElf } from './elf.js';

/** Options of `objectListing`. */
export interface ObjectListingOptions {
  /** Source lines from BTF line info (an object without it is refused). */
  readonly source?: boolean;
  /** 32-bit register names for ALU32 operations, as llvm-objdump's `--mattr=+alu32`. */
  readonly alu32?: boolean;
}

/** Every code section of an ELF object, disassembled. */
export function objectListing(bytes: Uint8Array, fileName: string, options: ObjectListingOptions = {}): string {
  const elf = readElf(bytes, fileName);
  let sections: readonly ListingSection[] = codeSections(elf);
  if (options.source) {
    const ext = readBtfExt(elf, readBtf(elf));
    if (!ext || ext.lineInfo.length === 0) throw new BpfError('usage', `${fileName}: --source: the object has no BTF line info (compile with -g)`);
    sections = sections.map((section) => {
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
  return objdumpListing(fileName, sections, { alu32: Boolean(options.alu32) });
}
