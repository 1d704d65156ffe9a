// Typed errors for reading BPF object files. Each names the file, and the section and the byte
// offset in the file where the problem is, when there is one.
import { BpfError } from '../isa/errors.js';

/** Where in an object file a problem was found. */
export interface ElfLocation {
  /** The section's name, or `#index` when its name is not known (yet). */
  readonly section?: string;
  /** Byte offset from the start of the file. */
  readonly offset?: number;
}

/** A malformed, truncated or unsupported ELF object: names the file, the section and the byte offset. */
export class ElfError extends BpfError {
  readonly section: string | undefined;
  readonly offset: number | undefined;

  constructor(
    readonly file: string,
    detail: string,
    where: ElfLocation = {},
    options?: { cause?: unknown },
  ) {
    const parts = [file];
    if (where.section !== undefined) parts.push(`section ${where.section}`);
    if (where.offset !== undefined) parts.push(`offset 0x${where.offset.toString(16)}`);
    super('bad-elf', `${parts.join(': ')}: ${detail}`, options);
    this.section = where.section;
    this.offset = where.offset;
  }
}

/**
 * An object whose contents the loader cannot use: an unknown relocation, a call to nowhere, a map
 * definition it cannot read. Names the file, the section and the byte offset within that section.
 */
export class LoaderError extends BpfError {
  constructor(
    readonly file: string,
    readonly section: string,
    readonly offset: number,
    detail: string,
  ) {
    super('bad-object', `${file}: section ${section}: offset 0x${offset.toString(16)}: ${detail}`);
  }
}

/**
 * A CO-RE relocation that cannot be applied against a target BTF, where libbpf would fail the load
 * (or poison the instruction): names the file, the code section, the instruction's byte offset in
 * it, the relocation kind and the access it describes (`task_struct.real_parent`).
 */
export class CoreRelocationError extends BpfError {
  constructor(
    readonly file: string,
    readonly section: string,
    /** Byte offset of the instruction in its section (the record's insn_off). */
    readonly offset: number,
    /** The relocation kind as llvm-objdump prints it (`byte_off`, `enumval_value`, ...). */
    readonly kind: string,
    /** The access, in C terms: `task_struct.comm[2]`, `enum pid_type::PIDTYPE_PGID`, `struct mm_struct`. */
    readonly access: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('core-relocation', `${file}: section ${section}: offset 0x${offset.toString(16)}: CO-RE <${kind}> ${access}: ${detail}`, options);
  }
}
