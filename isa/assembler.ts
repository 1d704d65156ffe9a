// Assembler for the bpf_conformance `-- asm` text syntax (upstream lib/src/bpf_assembler.cc; see
// shared/bpf_conformance/SOURCE.md). Mnemonics, operand layouts and fixed fields all come from the
// opcode table; this file only knows how operands are written.
import { AsmError } from './errors.js';
import { AtomicOp, LddwSrc, Source } from './fields.js';
import { type Instruction, make, splitImm64 } from './instruction.js';
import { OPCODES, type Form, type OpcodeSpec } from './opcodes.js';
import { branchTarget } from './validate.js';

/** Where an assembler error is reported: `source` names the file, `firstLine` is the file line of the text's first line. */
export interface AssembleOptions {
  source?: string;
  firstLine?: number;
}

/**
 * What each operand of a form is, in order; the disassembler prints the same list.
 * - `dst`/`src`: a register `%rN` into that field
 * - `value`: a register into src on register rows (source bit X), an int32 into imm otherwise
 * - `imm`: an int32; `imm64`: lddw's 64-bit value, after its pseudo-source keyword if any
 * - `dstMem`/`srcMem`: `[%rN+off]` into that register field and off
 * - `offTarget`/`immTarget`: a label or `+N`/`-N` slots, into off (int16) or imm (int32)
 */
export type OperandKind = 'dst' | 'src' | 'value' | 'imm' | 'imm64' | 'dstMem' | 'srcMem' | 'offTarget' | 'immTarget';

/** The operands of every form (call forms after their mode keyword). */
export const OPERANDS: Readonly<Record<Form, readonly OperandKind[]>> = {
  alu: ['dst', 'value'],
  unary: ['dst'],
  ldx: ['dst', 'srcMem'],
  st: ['dstMem', 'imm'],
  stx: ['dstMem', 'src'],
  atomic: ['dstMem', 'src'],
  lddw: ['dst', 'imm64'],
  ja: ['offTarget'],
  ja32: ['immTarget'],
  jcc: ['dst', 'value', 'offTarget'],
  call: ['imm'],
  calllocal: ['immTarget'],
  callbtf: ['imm'],
  callx: ['dst'],
  exit: [],
  ldabs: ['imm'],
  ldind: ['src', 'imm'],
  maygoto: ['offTarget'],
};

/** The mode keyword after `call` for each call form; `helper` may be left out. */
export const CALL_MODES: ReadonlyMap<Form, string> = new Map<Form, string>([
  ['call', 'helper'],
  ['callx', 'helper'],
  ['calllocal', 'local'],
  ['callbtf', 'runtime'],
]);

/** The call mode assumed when `call` has a single operand. */
export const DEFAULT_CALL_MODE = 'helper';

/**
 * Keywords for lddw's pseudo sources (`lddw %r1, map_fd 5`), named after linux/bpf.h's
 * BPF_PSEUDO_* as in fields.ts. Not upstream syntax: upstream only has plain 64-bit lddw.
 */
export const LDDW_KINDS: ReadonlyMap<string, number> = new Map(
  Object.entries(LddwSrc).filter(([, src]) => src !== LddwSrc.IMM64).map(([name, src]) => [name.toLowerCase(), src]),
);

/** True for an lddw row whose imm is a code address (a relative slot count, like a local call). */
export function lddwTakesTarget(row: OpcodeSpec): boolean {
  return row.form === 'lddw' && branchTarget(make(row, {})) !== undefined;
}

/** True for rows whose second operand is a register (the source bit is X). */
export function takesRegister(row: OpcodeSpec): boolean {
  return (row.opcode & Source.X) !== 0;
}

const byMnemonic = new Map<string, OpcodeSpec[]>();
for (const row of OPCODES) {
  const rows = byMnemonic.get(row.mnemonic);
  if (rows) rows.push(row);
  else byMnemonic.set(row.mnemonic, [row]);
}

// Upstream spells the unconditional byte swaps both `bswapN` (the table's name) and `swapN`.
const ALIASES = new Map<string, string>(
  OPCODES.filter((r) => r.mnemonic.startsWith('bswap')).map((r) => [r.mnemonic.slice(1), r.mnemonic]),
);

// Registers are 4-bit fields: %r11-%r15 parse so that validate() can report them (as upstream).
const REGISTERS = new Map<string, number>(Array.from({ length: 16 }, (_, n) => [`%r${n}`, n]));

const INTEGER = /^([+-]?)(0x[0-9a-fA-F]+|[0-9]+)$/;

interface Integer {
  readonly value: bigint;
  readonly hex: boolean;
}

function parseInteger(token: string): Integer | undefined {
  const m = INTEGER.exec(token);
  if (!m) return undefined;
  const magnitude = BigInt(m[2]!);
  return { value: m[1] === '-' ? -magnitude : magnitude, hex: m[2]!.startsWith('0x') };
}

/**
 * Fits an integer into a signed field of `bits` bits. Decimal must be in the signed range;
 * non-negative hex may use every bit and is reinterpreted as signed (0xffffffff is -1).
 */
function fitSigned(n: Integer, bits: number): number | undefined {
  const b = BigInt(bits);
  const min = -(1n << (b - 1n));
  const max = n.hex && n.value >= 0n ? (1n << b) - 1n : (1n << (b - 1n)) - 1n;
  if (n.value < min || n.value > max) return undefined;
  return Number(BigInt.asIntN(bits, n.value));
}

type Fail = (detail: string) => never;

interface Fields {
  dst?: number;
  src?: number;
  off?: number;
  imm?: number;
  immHi?: number;
}

/** A label reference waiting for the label's pc. */
interface Fixup {
  readonly index: number;
  readonly pc: number;
  readonly line: number;
  readonly label: string;
  readonly field: 'off' | 'imm';
}

function register(token: string, fail: Fail): number {
  const reg = REGISTERS.get(token);
  if (reg === undefined) fail(`Invalid register: ${token}`);
  return reg;
}

function imm32(token: string, fail: Fail): number {
  const n = parseInteger(token);
  if (!n) fail(`Invalid immediate: ${token}`);
  const value = fitSigned(n, 32);
  if (value === undefined) fail(`Immediate out of 32-bit range: ${token}`);
  return value;
}

function imm64(token: string, fail: Fail): { imm: number; immHi: number } {
  const n = parseInteger(token);
  if (!n) fail(`Invalid immediate: ${token}`);
  // Upstream: hex and non-negative decimal are unsigned 64-bit, negative decimal is signed.
  if (n.value < -(1n << 63n) || n.value >= 1n << 64n) fail(`Immediate out of 64-bit range: ${token}`);
  return splitImm64(n.value);
}

function offset16(token: string, fail: Fail): number {
  const n = parseInteger(token);
  if (!n) fail(`Invalid offset: ${token}`);
  const value = fitSigned(n, 16);
  if (value === undefined) fail(`Offset out of 16-bit range: ${token}`);
  return value;
}

/** `[%rN]`, `[%rN+off]` or `[%rN-off]`: the register ends at the first `+` or `-`, as upstream. */
function memory(token: string, fail: Fail): { reg: number; off: number } {
  if (!token.startsWith('[') || !token.endsWith(']') || token.length < 2) {
    fail(`Invalid memory operand: ${token} (expected [%rN], [%rN+off] or [%rN-off])`);
  }
  const inner = token.slice(1, -1);
  const sign = inner.search(/[+-]/);
  if (sign < 0) return { reg: register(inner, fail), off: 0 };
  return { reg: register(inner.slice(0, sign), fail), off: offset16(inner.slice(sign), fail) };
}

function isRelative(token: string): boolean {
  return token.startsWith('+') || token.startsWith('-');
}

/** A relative target `+N`/`-N`, checked against the width of the field it goes into. */
function relative(token: string, bits: 16 | 32, fail: Fail): number {
  const n = parseInteger(token);
  if (!n) fail(`Invalid jump target: ${token} (expected a label, +N or -N)`);
  const value = fitSigned(n, bits);
  if (value === undefined) fail(`Jump offset out of ${bits}-bit range: ${token}`);
  return value;
}

/**
 * The table mnemonic of `lock [fetch] op[32]`. Upstream also accepts `lock fetch xchg` and
 * `lock fetch cmpxchg`: their encodings always carry the fetch bit.
 */
function lockMnemonic(words: readonly string[]): string | undefined {
  const name = `lock ${words.join(' ')}`;
  if (byMnemonic.has(name)) return name;
  if (words.length !== 2 || words[0] !== 'fetch') return undefined;
  const plain = `lock ${words[1]}`;
  const fetches = byMnemonic.get(plain)?.every((r) => typeof r.imm === 'number' && (r.imm & AtomicOp.FETCH) !== 0);
  return fetches ? plain : undefined;
}

/** Assembles bpf_conformance assembler text into instruction records (lddw is one record of width 2). */
export function assemble(text: string, options: AssembleOptions = {}): Instruction[] {
  const firstLine = options.firstLine ?? 1;
  const out: Instruction[] = [];
  const labels = new Map<string, { pc: number; line: number }>();
  const fixups: Fixup[] = [];
  let implicitExit: number | undefined;
  let pc = 0;

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = firstLine + i;
    const fail: Fail = (detail) => {
      throw new AsmError(line, detail, options.source);
    };
    // `#` starts a comment, as in .data files (whose parser strips them before we see the text).
    const tokens = lines[i]!.replace(/#.*/, '').split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) continue;
    const head = tokens[0]!;
    const operands = tokens.slice(1).map((t) => (t.endsWith(',') ? t.slice(0, -1) : t));

    if (head.endsWith(':')) {
      const name = head.slice(0, -1);
      if (name === '' || isRelative(name)) fail(`Invalid label name: '${name}'`);
      if (operands.length > 0) fail(`Label ${name} must be on its own line`);
      const previous = labels.get(name);
      if (previous) fail(`Duplicate label: ${name} (first defined on line ${previous.line})`);
      labels.set(name, { pc, line });
      continue;
    }

    const { row, fields, label } = parseInstruction(head, operands, fail);
    if (label) fixups.push({ index: out.length, pc, line, ...label });
    if (row.form === 'exit' && implicitExit === undefined) implicitExit = pc;
    out.push(make(row, { pc, ...fields }));
    pc += row.width;
  }

  for (const fixup of fixups) {
    // The implicit `exit` label (upstream: the first exit instruction) yields to an explicit one.
    const target = labels.get(fixup.label)?.pc ?? (fixup.label === 'exit' ? implicitExit : undefined);
    if (target === undefined) {
      const hint = parseInteger(fixup.label) ? ' (relative targets are written +N or -N)' : '';
      throw new AsmError(fixup.line, `Invalid label: ${fixup.label} is not defined${hint}`, options.source);
    }
    const delta = target - fixup.pc - 1;
    const bits = fixup.field === 'off' ? 16 : 32;
    if (fitSigned({ value: BigInt(delta), hex: false }, bits) === undefined) {
      throw new AsmError(fixup.line, `Jump offset out of ${bits}-bit range: label ${fixup.label} is ${delta} slots away`, options.source);
    }
    out[fixup.index] = { ...out[fixup.index]!, [fixup.field]: delta };
  }
  return out;
}

function parseInstruction(
  head: string,
  given: readonly string[],
  fail: Fail,
): { row: OpcodeSpec; fields: Fields; label?: { label: string; field: 'off' | 'imm' } } {
  let operands = given;
  let mnemonic = ALIASES.get(head) ?? head;
  if (head === 'lock') {
    let words = 0;
    while (words < 2 && words < operands.length && /^[a-z][a-z0-9]*$/.test(operands[words]!)) words++;
    if (words === 0 || (words === 1 && operands[0] === 'fetch')) {
      fail(`Invalid number of operands for lock: expected lock [fetch] op [%rD+off], %rS`);
    }
    const found = lockMnemonic(operands.slice(0, words));
    if (!found) fail(`Invalid mnemonic: lock ${operands.slice(0, words).join(' ')}`);
    mnemonic = found;
    operands = operands.slice(words);
  }
  const rows = byMnemonic.get(mnemonic);
  if (!rows) fail(`Invalid mnemonic: ${mnemonic}`);

  let candidates = rows;
  if (CALL_MODES.has(rows[0]!.form)) {
    // `call N` and `call %rN` mean `call helper ...`; the mode keyword picks the rows by form.
    if (operands.length === 0 || operands.length > 2) {
      fail(`Invalid number of operands for ${mnemonic}: expected [helper|local|runtime] target, got ${operands.length}`);
    }
    const mode = operands.length === 1 ? DEFAULT_CALL_MODE : operands[0]!;
    candidates = rows.filter((r) => CALL_MODES.get(r.form) === mode);
    if (candidates.length === 0) fail(`Invalid call mode: ${mode} (expected helper, local or runtime)`);
    operands = operands.slice(-1);
  } else if (rows[0]!.form === 'lddw' && operands.length === 3) {
    // A pseudo-source keyword before the value picks the lddw row by its src field.
    const src = LDDW_KINDS.get(operands[1]!);
    if (src === undefined) fail(`Invalid lddw kind: ${operands[1]} (expected one of ${[...LDDW_KINDS.keys()].join(', ')})`);
    candidates = rows.filter((r) => r.src === src);
    operands = [operands[0]!, operands[2]!];
  } else if (rows[0]!.form === 'lddw') {
    candidates = rows.filter((r) => r.src === LddwSrc.IMM64);
  }

  // Rows left differ only in the source bit, chosen by how the value operand (or a call's only
  // operand) is written: a register or a number.
  const decider = Math.max(0, OPERANDS[candidates[0]!.form].indexOf('value'));
  const token = operands[decider];
  const wantsRegister = token?.startsWith('%') ?? false;
  let row = candidates[0]!;
  if (token !== undefined && (candidates.length > 1 || OPERANDS[row.form].includes('value'))) {
    const match = candidates.find((r) => takesRegister(r) === wantsRegister);
    if (!match) fail(`${mnemonic} takes ${wantsRegister ? 'an immediate' : 'a register'}, not ${token}, as operand ${decider + 1}`);
    row = match;
  }

  const kinds = OPERANDS[row.form];
  if (operands.length !== kinds.length) {
    fail(`Invalid number of operands for ${mnemonic}: expected ${kinds.length}, got ${operands.length}`);
  }

  const fields: Fields = {};
  let label: { label: string; field: 'off' | 'imm' } | undefined;
  const target = (text: string, field: 'off' | 'imm') => {
    if (isRelative(text)) fields[field] = relative(text, field === 'off' ? 16 : 32, fail);
    else label = { label: text, field };
  };
  kinds.forEach((kind, k) => {
    const text = operands[k]!;
    switch (kind) {
      case 'dst':
        fields.dst = register(text, fail);
        break;
      case 'src':
        fields.src = register(text, fail);
        break;
      case 'value':
        if (takesRegister(row)) fields.src = register(text, fail);
        else fields.imm = imm32(text, fail);
        break;
      case 'imm':
        fields.imm = imm32(text, fail);
        break;
      case 'imm64':
        // A code address (lddw func) is a label or +N/-N like a local call; a plain number is the raw value.
        if (lddwTakesTarget(row) && (isRelative(text) || !parseInteger(text))) target(text, 'imm');
        else Object.assign(fields, imm64(text, fail));
        break;
      case 'dstMem': {
        const { reg, off } = memory(text, fail);
        fields.dst = reg;
        fields.off = off;
        break;
      }
      case 'srcMem': {
        const { reg, off } = memory(text, fail);
        fields.src = reg;
        fields.off = off;
        break;
      }
      case 'offTarget':
        target(text, 'off');
        break;
      case 'immTarget':
        target(text, 'imm');
        break;
    }
  });
  return { row, fields, ...(label ? { label } : {}) };
}
