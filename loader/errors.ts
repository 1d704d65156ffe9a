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
