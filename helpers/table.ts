// The helper ABI shared by both engines (DESIGN.md "Helper ABI"): before a helper runs, r1..r5
// are in a register file in guest memory (r0..r10 as 64-bit little-endian slots); the helper
// reads its arguments there and writes r0 there. Helpers are keyed by Linux BPF_FUNC_* ids.
import { BpfError } from '../isa/errors.js';
import type { GuestMemory } from '../runtime/memory.js';
import type { Instruction } from '../isa/instruction.js';
import { Op } from '../isa/opcodes.js';
import { LINUX_HELPER_NAMES } from './linux-helper-names.js';

/** Argument kinds of a helper prototype, as the verifier will check them. */
export type HelperArg = 'anything' | 'const_map_ptr' | 'ptr_to_map_key' | 'ptr_to_map_value' | 'ptr_to_mem' | 'ptr_to_uninit_mem' | 'const_size' | 'ptr_to_ctx' | 'ptr_to_func';

/** Return kinds of a helper prototype. */
export type HelperRet = 'integer' | 'void' | 'ptr_to_map_value_or_null' | 'ptr_to_mem_or_null';

/** A helper's prototype: what the verifier checks at each call site. */
export interface HelperProto {
  readonly ret: HelperRet;
  readonly args: readonly HelperArg[];
}

/** Tail calls one chain of programs may take (Linux MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALLS = 33;

/** What a helper implementation sees: its arguments, the guest memory, and a way to return. */
export class HelperCall {
  /** Set by a helper to end the program after it returns, with r0 as the program's result. */
  stopRequested = false;
  /** Tail calls taken so far in the chain the current program runs in. */
  tailCallCount = 0;
  /** The program a tail-call helper asked to continue with, and the context it passes. */
  pendingTailCall: { readonly target: unknown; readonly ctx: bigint } | undefined;

  /** Whether another tail call is allowed in this chain. */
  canTailCall(): boolean {
    return this.tailCallCount < MAX_TAIL_CALLS;
  }

  /** Ends the current program and continues the chain with `target`, which gets `ctx` in r1. */
  requestTailCall(target: unknown, ctx: bigint): void {
    this.pendingTailCall = { target, ctx };
    this.stopRequested = true;
  }

  constructor(
    readonly memory: GuestMemory,
    /** Guest address of the register file (r0..r10, 8 bytes each). */
    readonly registers: number,
  ) {}

  /** Argument i (1..5) as a signed 64-bit BigInt. */
  arg(i: number): bigint {
    return this.memory.view.getBigInt64(this.registers + i * 8, true);
  }

  /** Argument i (1..5), low 32 bits, unsigned: pointers and sizes. */
  argU32(i: number): number {
    return this.memory.view.getUint32(this.registers + i * 8, true);
  }

  /** Argument i (1..5), high 32 bits, unsigned. */
  argHighU32(i: number): number {
    return this.memory.view.getUint32(this.registers + i * 8 + 4, true);
  }

  /** Sets r0 from a safe integer, as 64-bit two's complement. */
  returnNumber(value: number): void {
    const v = this.memory.view;
    v.setInt32(this.registers, value | 0, true);
    v.setInt32(this.registers + 4, Math.floor(value / 0x100000000) | 0, true);
  }

  /** Sets r0 from a BigInt (taken modulo 2^64). */
  returnBigInt(value: bigint): void {
    this.memory.view.setBigUint64(this.registers, BigInt.asUintN(64, value), true);
  }
}

/** A helper: its Linux id and name, its prototype for the verifier, and its implementation. */
export interface HelperSpec {
  readonly id: number;
  readonly name: string;
  readonly proto: HelperProto;
  readonly impl: (call: HelperCall) => void;
}

/** Helpers by id. One table serves the engines, the verifier and the disassembler. */
export type HelperTable = ReadonlyMap<number, HelperSpec>;

/** Builds a table from helper specs, refusing duplicate ids. */
export function helperTable(specs: readonly HelperSpec[]): HelperTable {
  const table = new Map<number, HelperSpec>();
  for (const s of specs) {
    if (table.has(s.id)) throw new Error(`helper id ${s.id} (${s.name}) defined twice`);
    table.set(s.id, s);
  }
  return table;
}

/** A program calls a helper the table does not have. */
export class UnknownHelperError extends BpfError {
  constructor(readonly pc: number, readonly helperId: number, readonly helperName?: string) {
    super('unknown-helper', `pc ${pc}: call to unknown helper ${helperName ? `${helperName} (id ${helperId})` : `id ${helperId}`}`);
  }
}

/** The helpers a program calls directly, resolved against a table; an unknown id is a load error. */
export function resolveHelperCalls(insns: readonly Instruction[], table: HelperTable): Map<number, HelperSpec> {
  const used = new Map<number, HelperSpec>();
  for (const insn of insns) {
    if (insn.op !== Op.CallHelper) continue;
    const helper = table.get(insn.imm);
    if (!helper) throw new UnknownHelperError(insn.pc, insn.imm, LINUX_HELPER_NAMES[insn.imm]);
    used.set(insn.imm, helper);
  }
  return used;
}
