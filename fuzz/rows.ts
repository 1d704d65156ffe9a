// Which rows of the opcode table the program generator draws from, grouped by what the generator
// does with them. Everything here is a filter over OPCODES by form, source bit, operation code,
// size and is32: adding a row to the table adds it to the fuzzer.
import { BpfError } from '../isa/errors.js';
import { AluCode, JmpCode, LddwSrc, Source } from '../isa/fields.js';
import { OPCODES, type OpcodeSpec } from '../isa/opcodes.js';

/** Why a row is never generated, or undefined when it is. */
export function exclusionReason(row: OpcodeSpec): string | undefined {
  if (row.form === 'ldabs' || row.form === 'ldind') return 'legacy packet load (needs a packet context)';
  if (row.form === 'callbtf') return 'call by BTF id (kfuncs are not supported by the engines)';
  if (row.form === 'lddw' && row.src !== LddwSrc.IMM64 && row.src !== LddwSrc.FUNC) {
    return 'lddw map/BTF pseudo-source (needs the loader to resolve it)';
  }
  return undefined;
}

/** Rows the generator never emits, with the reason. */
export const EXCLUDED_ROWS: readonly { readonly row: OpcodeSpec; readonly reason: string }[] = OPCODES.flatMap((row) => {
  const reason = exclusionReason(row);
  return reason === undefined ? [] : [{ row, reason }];
});

/** Rows the generator emits: every row of OPCODES not in EXCLUDED_ROWS. */
export const GENERATED_ROWS: readonly OpcodeSpec[] = OPCODES.filter((row) => exclusionReason(row) === undefined);

/** The operation code of an ALU or JMP row (bits 4..7 of the opcode). */
export function codeOf(row: OpcodeSpec): number {
  return row.opcode & 0xf0;
}

/** True for rows whose second operand is a register. */
export function isX(row: OpcodeSpec): boolean {
  return (row.opcode & Source.X) !== 0;
}

/** True for ALU rows that write dst without reading it (mov, movsx). */
export function isMove(row: OpcodeSpec): boolean {
  return row.form === 'alu' && codeOf(row) === AluCode.MOV;
}

/** True for division and modulo rows, signed or not. */
export function isDivision(row: OpcodeSpec): boolean {
  return row.form === 'alu' && (codeOf(row) === AluCode.DIV || codeOf(row) === AluCode.MOD);
}

/** True for signed division and modulo rows (off = 1). */
export function isSignedDivision(row: OpcodeSpec): boolean {
  return isDivision(row) && row.off === 1;
}

/** True for shift rows. */
export function isShift(row: OpcodeSpec): boolean {
  return row.form === 'alu' && [AluCode.LSH, AluCode.RSH, AluCode.ARSH].includes(codeOf(row) as 0x60);
}

const byForm = (form: OpcodeSpec['form']) => GENERATED_ROWS.filter((r) => r.form === form);

/** The generated rows by role. */
export const ROWS = {
  /** Binary ALU and ALU64 operations, moves and sign-extending moves. */
  alu: byForm('alu'),
  /** neg and the byte-order operations. */
  unary: byForm('unary'),
  ldx: byForm('ldx'),
  st: byForm('st'),
  stx: byForm('stx'),
  atomic: byForm('atomic'),
  /** Conditional jumps, JMP and JMP32, K and X. */
  jcc: byForm('jcc'),
  /** may_goto: falls through until the function's loop budget runs out. */
  mayGoto: byForm('maygoto'),
  /** Unconditional jumps: ja (off) and ja32 (imm). */
  ja: GENERATED_ROWS.filter((r) => r.form === 'ja' || r.form === 'ja32'),
  lddw: GENERATED_ROWS.filter((r) => r.form === 'lddw' && r.src === LddwSrc.IMM64),
  lddwFunc: GENERATED_ROWS.filter((r) => r.form === 'lddw' && r.src === LddwSrc.FUNC),
  callHelper: byForm('call'),
  callLocal: byForm('calllocal'),
  callx: byForm('callx'),
  exit: byForm('exit'),
} as const;

function one(rows: readonly OpcodeSpec[], what: string): OpcodeSpec {
  if (rows.length !== 1) throw new BpfError('fuzz-rows', `opcode table: expected one ${what} row, found ${rows.length}`);
  return rows[0]!;
}

const aluK = (code: number, is32: boolean) =>
  one(ROWS.alu.filter((r) => codeOf(r) === code && !isX(r) && r.is32 === is32 && (r.off === 0 || code === AluCode.MOV)), `alu ${code} K`);

/** Fixed-purpose rows: moves of constants, and the counter arithmetic of loops. */
export const FIXED = {
  mov64K: aluK(AluCode.MOV, false),
  mov32K: aluK(AluCode.MOV, true),
  mov64X: one(ROWS.alu.filter((r) => codeOf(r) === AluCode.MOV && isX(r) && !r.is32 && r.off === 0), 'mov64 X'),
  add64K: aluK(AluCode.ADD, false),
  add32K: aluK(AluCode.ADD, true),
  sub64K: aluK(AluCode.SUB, false),
  sub32K: aluK(AluCode.SUB, true),
  and64K: aluK(AluCode.AND, false),
  or64K: aluK(AluCode.OR, false),
  xor64X: one(ROWS.alu.filter((r) => codeOf(r) === AluCode.XOR && isX(r) && !r.is32), 'xor64 X'),
  add64X: one(ROWS.alu.filter((r) => codeOf(r) === AluCode.ADD && isX(r) && !r.is32), 'add64 X'),
  ja: one(GENERATED_ROWS.filter((r) => r.form === 'ja'), 'ja'),
  mayGoto: one(GENERATED_ROWS.filter((r) => r.form === 'maygoto'), 'may_goto'),
  lddw: one(ROWS.lddw, 'lddw'),
  lddwFunc: one(ROWS.lddwFunc, 'lddw func'),
  callHelper: one(ROWS.callHelper, 'call helper'),
  callLocal: one(ROWS.callLocal, 'call local'),
  callx: one(ROWS.callx, 'callx'),
  exit: one(ROWS.exit, 'exit'),
  ldxdw: one(ROWS.ldx.filter((r) => r.size === 8), 'ldxdw'),
} as const;

const jccK = (codes: readonly number[], imm: number) =>
  ROWS.jcc.filter((r) => !isX(r) && codes.includes(codeOf(r))).map((row) => ({ row, imm }));

/**
 * Conditions true exactly when a loop counter (a small non-negative number) is not zero: the
 * back edge of a do-while loop. JMP and JMP32 alike.
 */
export const COUNTER_NONZERO: readonly { row: OpcodeSpec; imm: number }[] = [
  ...jccK([JmpCode.JNE, JmpCode.JGT, JmpCode.JSGT], 0),
  ...jccK([JmpCode.JGE, JmpCode.JSGE], 1),
];

/** Conditions true exactly when a loop counter is zero: the exit test of a while loop. */
export const COUNTER_ZERO: readonly { row: OpcodeSpec; imm: number }[] = [
  ...jccK([JmpCode.JEQ, JmpCode.JLE, JmpCode.JSLE], 0),
  ...jccK([JmpCode.JLT, JmpCode.JSLT], 1),
];

/** Counter decrements: sub 1 or add -1, 64 or 32-bit (the counter stays small and non-negative). */
export const COUNTER_DECREMENTS: readonly { row: OpcodeSpec; imm: number }[] = [
  { row: FIXED.sub64K, imm: 1 },
  { row: FIXED.sub32K, imm: 1 },
  { row: FIXED.add64K, imm: -1 },
  { row: FIXED.add32K, imm: -1 },
];
