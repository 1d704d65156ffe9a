// Functions and basic blocks of a BPF program, as the JIT lowers them: one WebAssembly function
// per BPF function (the main program, every bpf-to-bpf call target, every function whose address
// is taken), each made of the basic blocks reachable from its entry without crossing a call.
import type { Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { branchTarget } from '../isa/validate.js';

/** A straight-line run of instructions ending in a jump, an exit, or before a jump target. */
export interface BasicBlock {
  readonly start: number;
  readonly insns: readonly Instruction[];
  /** Where control goes when the last instruction is a taken conditional or unconditional jump. */
  readonly target?: number;
  /** Where control falls through to, unless the block ends in ja or exit. */
  readonly next?: number;
}

/** One BPF function: its entry slot and its blocks, entry block first. */
export interface BpfFunction {
  readonly entry: number;
  readonly blocks: readonly BasicBlock[];
}

/** The program's functions, main first, then the others by entry slot. */
export interface ProgramStructure {
  readonly functions: readonly BpfFunction[];
  /** Entry slots of functions whose address the program takes (callx targets), sorted. */
  readonly addressTaken: readonly number[];
  /** Slots past the last instruction. */
  readonly slots: number;
}

function endsBlock(insn: Instruction): boolean {
  const form = specOf(insn.op).form;
  return form === 'ja' || form === 'ja32' || form === 'jcc' || form === 'maygoto' || form === 'exit';
}

/** Splits a validated program into functions and basic blocks. */
export function programStructure(insns: readonly Instruction[], slots: number): ProgramStructure {
  const byPc: (Instruction | undefined)[] = new Array(slots);
  for (const insn of insns) byPc[insn.pc] = insn;

  const entries = new Set<number>([0]);
  const addressTaken = new Set<number>();
  for (const insn of insns) {
    if (insn.op === Op.CallLocal) entries.add(branchTarget(insn)!);
    if (insn.op === Op.LddwFunc) {
      entries.add(branchTarget(insn)!);
      addressTaken.add(branchTarget(insn)!);
    }
  }

  // Block leaders: function entries, jump targets and the instruction after any jump or exit.
  const leader = new Uint8Array(slots + 1);
  for (const e of entries) leader[e] = 1;
  for (const insn of insns) {
    const form = specOf(insn.op).form;
    if (form === 'ja' || form === 'ja32' || form === 'jcc' || form === 'maygoto') leader[branchTarget(insn)!] = 1;
    if (endsBlock(insn)) leader[insn.pc + 1] = 1;
  }

  const blockAt = new Map<number, BasicBlock>();
  const block = (start: number): BasicBlock => {
    let b = blockAt.get(start);
    if (b) return b;
    const body: Instruction[] = [];
    let pc = start;
    let target: number | undefined;
    let next: number | undefined;
    for (;;) {
      const insn = byPc[pc]!;
      body.push(insn);
      const row = specOf(insn.op);
      pc += row.width;
      if (row.form === 'exit') break;
      if (row.form === 'ja' || row.form === 'ja32') {
        target = branchTarget(insn);
        break;
      }
      if (row.form === 'jcc' || row.form === 'maygoto') {
        target = branchTarget(insn);
        next = pc;
        break;
      }
      if (pc >= slots || leader[pc]) {
        next = pc;
        break;
      }
    }
    b = { start, insns: body, ...(target !== undefined ? { target } : {}), ...(next !== undefined ? { next } : {}) };
    blockAt.set(start, b);
    return b;
  };

  const functions = [...entries].sort((a, b) => a - b).map((entry): BpfFunction => {
    const blocks: BasicBlock[] = [];
    const seen = new Set<number>();
    const work = [entry];
    while (work.length) {
      const start = work.pop()!;
      if (seen.has(start) || start >= slots) continue;
      seen.add(start);
      const b = block(start);
      blocks.push(b);
      if (b.target !== undefined) work.push(b.target);
      if (b.next !== undefined) work.push(b.next);
    }
    blocks.sort((a, b) => (a.start === entry ? -1 : b.start === entry ? 1 : a.start - b.start));
    return { entry, blocks };
  });
  return { functions, addressTaken: [...addressTaken].sort((a, b) => a - b), slots };
}
