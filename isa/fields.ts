// Opcode byte fields of the BPF instruction set, as laid out in RFC 9669 section 3.
//
// An instruction slot is 64 bits, little-endian:
//
//   63             32 31        16 15  12 11   8 7       0
//   +----------------+------------+------+------+---------+
//   |      imm       |    off     | src  | dst  | opcode  |
//   +----------------+------------+------+------+---------+
//
// The opcode byte splits by class (the low 3 bits):
//
//   ALU, ALU64, JMP, JMP32:   7..4 code   3 source   2..0 class
//   LD, LDX, ST, STX:         7..5 mode   4..3 size  2..0 class

/** Instruction class: bits 0..2 of the opcode. */
export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Operand source for ALU and jump classes: bit 3. */
export const Source = { K: 0x00, X: 0x08 } as const;

/** ALU operation code: bits 4..7 for the ALU and ALU64 classes. */
export const AluCode = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

/** Jump operation code: bits 4..7 for the JMP and JMP32 classes. */
export const JmpCode = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** Conditional pseudo-jumps; src 0 is may_goto. */
  JCOND: 0xe0,
} as const;

/** Access size for load and store classes: bits 3..4. */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** Bytes moved by each access size. */
export const SIZE_BYTES: Readonly<Record<number, 1 | 2 | 4 | 8>> = {
  [Size.W]: 4,
  [Size.H]: 2,
  [Size.B]: 1,
  [Size.DW]: 8,
};

/** Mode for load and store classes: bits 5..7. */
export const Mode = {
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;

/** Atomic operation, carried in the imm field of an ATOMIC store (RFC 9669 5.3). */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe0 | 0x01,
  CMPXCHG: 0xf0 | 0x01,
} as const;

/** The src field of a CALL instruction (RFC 9669 4.3.1). */
export const CallSrc = { HELPER: 0, LOCAL: 1, BTF_ID: 2 } as const;

/** The src field of lddw: what the 64-bit immediate denotes (RFC 9669 5.4, linux/bpf.h BPF_PSEUDO_*). */
export const LddwSrc = {
  IMM64: 0,
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
} as const;

/** Number of registers: r0..r10; r10 is the read-only frame pointer. */
export const REGISTER_COUNT = 11;
/** The frame pointer register. */
export const FRAME_POINTER = 10;
/** Bytes in one instruction slot. */
export const SLOT_BYTES = 8;
