// Loops whose back edges the JIT can count before they run: clang's counted loop, an induction
// register set to a constant before the loop, stepped by a constant once an iteration and
// compared with a constant on the one back edge. Such a loop takes at most a known number of
// back edges, so a run with that much budget left can run a copy of it that spends the budget
// without testing it on every iteration (see Lowering.lowerFunction).
import type { Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import type { BasicBlock, BpfFunction } from './cfg.js';

/** A loop entered at `header` from `preheader` only, closed by one conditional back edge in `latch`. */
export interface CountedLoop {
  readonly header: number;
  readonly latch: number;
  readonly preheader: number;
  /** Starts of the loop's blocks, header and latch included. */
  readonly blocks: ReadonlySet<number>;
  /** The most back edges one pass through the loop takes. */
  readonly maxBackEdges: number;
}

/** Forms that write at most their dst register and call nothing. */
const PLAIN = new Set(['alu', 'unary', 'ldx', 'st', 'stx', 'lddw', 'ja', 'ja32', 'jcc', 'exit']);

/** Whether `insn` may write register `reg` (conservatively: anything but plain ALU, loads, stores and jumps may). */
function mayWrite(insn: Instruction, reg: number): boolean {
  switch (specOf(insn.op).form) {
    case 'alu': case 'unary': case 'ldx': case 'lddw': return insn.dst === reg;
    case 'st': case 'stx': case 'ja': case 'ja32': case 'jcc': case 'exit': return false;
    default: return true;
  }
}

/** The successors of a block within its function. */
function successors(block: BasicBlock): number[] {
  return [block.target, block.next].filter((s): s is number => s !== undefined);
}

/** The loops of a function that are counted. */
export function countedLoops(fn: BpfFunction): CountedLoop[] {
  const predecessors = new Map<number, BasicBlock[]>();
  for (const block of fn.blocks) {
    for (const s of successors(block)) {
      const list = predecessors.get(s);
      if (list) list.push(block);
      else predecessors.set(s, [block]);
    }
  }
  const loops: CountedLoop[] = [];
  for (const latch of fn.blocks) {
    const loop = countedLoop(fn, predecessors, latch);
    if (loop) loops.push(loop);
  }
  return loops;
}

function countedLoop(fn: BpfFunction, predecessors: ReadonlyMap<number, readonly BasicBlock[]>, latch: BasicBlock): CountedLoop | undefined {
  const jump = latch.insns.at(-1)!;
  const header = latch.target;
  // `jne rI, K, header`, falling through out of the loop, with `rI += c` before it.
  if (jump.op !== Op.Jne64K || header === undefined || header > latch.start || latch.next === header || fn.entry === header) return undefined;
  const reg = jump.dst;
  const step = latch.insns.filter((i) => mayWrite(i, reg));
  if (step.length !== 1 || step[0]!.op !== Op.Add64K || step[0]!.imm === 0) return undefined;

  // The loop is the run of blocks from the header to the latch, clang's layout: none may be
  // entered from outside but the header, close another loop, call anything (a callee spends
  // budget) or write the counter.
  const inside = fn.blocks.filter((b) => b.start >= header && b.start <= latch.start);
  const blocks = new Set(inside.map((b) => b.start));
  for (const b of inside) {
    if (b !== latch && successors(b).some((s) => s <= b.start)) return undefined;
    if (b.insns.some((i) => !PLAIN.has(specOf(i.op).form) || (b !== latch && mayWrite(i, reg)))) return undefined;
  }
  const entries = inside.flatMap((b) => (predecessors.get(b.start) ?? []).filter((p) => !blocks.has(p.start)).map((p) => ({ p, b })));
  if (entries.length !== 1 || entries[0]!.b.start !== header) return undefined;
  const preheader = entries[0]!.p;
  // The counter's value on entry: the preheader's last write to it, `rI = S`.
  const set = [...preheader.insns].reverse().find((i) => mayWrite(i, reg));
  if (set?.op !== Op.Mov64K) return undefined;

  // After n steps rI = S + n*c; the loop leaves when that is K, at the latest. Without wrapping
  // past 2^64, that is n = (K - S) / c, and it takes the back edge n - 1 times.
  const distance = BigInt(jump.imm) - BigInt(set.imm);
  const c = BigInt(step[0]!.imm);
  if (distance % c !== 0n || distance / c <= 0n) return undefined;
  const maxBackEdges = distance / c - 1n;
  if (maxBackEdges > 0x7fffffffn) return undefined;
  return { header, latch: latch.start, preheader: preheader.start, blocks, maxBackEdges: Number(maxBackEdges) };
}
