// Typed errors for decoding, validating and assembling BPF programs. Each names the pc
// (instruction slot index) or the source line it is about.

/** Base of every error this project throws for bad input; `code` is stable for scripts. */
export class BpfError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An instruction that is not valid at a given pc. */
export class InvalidInstructionError extends BpfError {
  constructor(
    code: string,
    readonly pc: number,
    detail: string,
  ) {
    super(code, `pc ${pc}: ${detail}`);
  }
}

/** The opcode byte names no instruction. */
export class UnknownOpcodeError extends InvalidInstructionError {
  constructor(pc: number, readonly opcode: number) {
    super('unknown-opcode', pc, `unknown opcode 0x${opcode.toString(16).padStart(2, '0')}`);
  }
}

/** A field that must hold a fixed value (usually zero) holds another. */
export class ReservedFieldError extends InvalidInstructionError {
  constructor(pc: number, readonly field: string, readonly value: number, mnemonic: string) {
    super('reserved-field', pc, `${mnemonic}: ${field} field must not be ${value}`);
  }
}

/** A register field names no register, or names r10 where a register is written. */
export class BadRegisterError extends InvalidInstructionError {
  constructor(pc: number, readonly field: 'dst' | 'src', readonly register: number, mnemonic: string) {
    super('bad-register', pc, register === 10
      ? `${mnemonic}: r10 is the read-only frame pointer and cannot be written`
      : `${mnemonic}: ${field} register r${register} does not exist`);
  }
}

/** lddw whose second slot is missing or malformed. */
export class TruncatedLddwError extends InvalidInstructionError {
  constructor(pc: number, detail: string) {
    super('truncated-lddw', pc, `lddw ${detail}`);
  }
}

/** A jump or call whose target is outside the program or inside an lddw. */
export class JumpOutOfRangeError extends InvalidInstructionError {
  constructor(pc: number, readonly target: number, detail = 'is out of range') {
    super('jump-out-of-range', pc, `jump target ${target} ${detail}`);
  }
}

/** A program that cannot be run at all: empty, too long, not a whole number of slots. */
export class BadProgramError extends BpfError {
  constructor(detail: string) {
    super('bad-program', detail);
  }
}

/** Assembler input that does not parse; names the 1-based line. */
export class AsmError extends BpfError {
  constructor(
    readonly line: number,
    detail: string,
    readonly source?: string,
  ) {
    super('bad-asm', `${source ? `${source}:` : 'line '}${line}: ${detail}`);
  }
}
