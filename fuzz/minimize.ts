// Shrinks a diverging program while it keeps diverging, by removing the generator's atoms (runs
// of instructions that are safe to drop together) and re-linking the jumps; and makes a memory
// divergence visible in r0, the only thing a `.data` test checks.
import { type Instruction, make, width } from '../isa/instruction.js';
import { specOf } from '../isa/opcodes.js';
import { branchTarget } from '../isa/validate.js';
import type { Divergence } from './differential.js';
import { MAIN_BUFFER_REGISTER } from './generator.js';
import type { Atom, FuzzProgram } from './program.js';
import { FIXED } from './rows.js';

/** True when a transfer's target is in the off field (ja, conditional jumps, may_goto) rather than imm. */
function targetInOff(insn: Instruction): boolean {
  const form = specOf(insn.op).form;
  return form === 'ja' || form === 'jcc' || form === 'maygoto';
}

function slotsOf(insns: readonly Instruction[]): number {
  const last = insns[insns.length - 1]!;
  return last.pc + width(last);
}

/**
 * The program without the given atoms (indices into `program.atoms`). Jumps, calls and function
 * addresses that pointed at removed code now point at the next instruction kept, which is what
 * falling through the removed code would have reached.
 */
export function removeAtoms(program: FuzzProgram, remove: ReadonlySet<number>): FuzzProgram {
  const { insns, atoms } = program;
  const keep = new Array<boolean>(insns.length).fill(true);
  atoms.forEach((atom, k) => {
    if (remove.has(k)) for (let i = atom.first; i < atom.first + atom.count; i++) keep[i] = false;
  });

  const newPc: number[] = [];
  const newIndex: number[] = [];
  let pc = 0;
  let kept = 0;
  insns.forEach((insn, i) => {
    newPc[i] = pc;
    newIndex[i] = kept;
    if (keep[i]) {
      pc += width(insn);
      kept++;
    }
  });
  // Old slot -> new pc of the first kept instruction at or after it.
  const slots = slotsOf(insns);
  const slotMap = new Int32Array(slots + 1).fill(pc);
  for (let i = insns.length - 1, next = pc; i >= 0; i--) {
    if (keep[i]) next = newPc[i]!;
    for (let s = insns[i]!.pc; s < insns[i]!.pc + width(insns[i]!); s++) slotMap[s] = next;
  }

  const out: Instruction[] = [];
  insns.forEach((insn, i) => {
    if (!keep[i]) return;
    const at = newPc[i]!;
    const target = branchTarget(insn);
    if (target === undefined) {
      out.push({ ...insn, pc: at });
    } else {
      const delta = slotMap[target]! - at - 1;
      out.push(targetInOff(insn) ? { ...insn, pc: at, off: delta } : { ...insn, pc: at, imm: delta });
    }
  });
  const newAtoms: Atom[] = atoms.flatMap((atom, k) => (remove.has(k) ? [] : [{ ...atom, first: newIndex[atom.first]! }]));
  // A function with no instruction left is gone.
  const { functions } = program;
  const remaining = functions.filter((start, k) => keep.slice(start, functions[k + 1] ?? insns.length).includes(true));
  return { ...program, insns: out, atoms: newAtoms, functions: remaining.map((f) => newIndex[f]!) };
}

/** What the minimizer may remove, each entry atoms to remove together: non-fixed atoms, alone or by unit. */
function removalGroups(program: FuzzProgram): number[][] {
  const groups: number[][] = [];
  const byUnit = new Map<number, number[]>();
  program.atoms.forEach((atom, k) => {
    if (atom.fixed) return;
    if (atom.unit === undefined) {
      groups.push([k]);
      return;
    }
    let group = byUnit.get(atom.unit);
    if (!group) {
      group = [];
      byUnit.set(atom.unit, group);
      groups.push(group);
    }
    group.push(k);
  });
  return groups;
}

/** The atoms of functions other than main that nothing calls or takes the address of. */
function uncalledFunctions(program: FuzzProgram): number[][] {
  const { insns, functions, atoms } = program;
  const referenced = new Set<number>();
  for (const insn of insns) {
    const form = specOf(insn.op).form;
    if (form === 'calllocal' || form === 'lddw') {
      const target = branchTarget(insn);
      if (target !== undefined) referenced.add(target);
    }
  }
  return functions.flatMap((start, k) => {
    if (k === 0 || referenced.has(insns[start]!.pc)) return [];
    const end = functions[k + 1] ?? insns.length;
    return [atoms.flatMap((atom, a) => (atom.first >= start && atom.first < end ? [a] : []))];
  });
}

/** Limits on one minimization. */
export interface MinimizeOptions {
  /** Most candidate programs to try (default 3000). */
  readonly maxTries?: number;
}

/**
 * Removes atoms in halving chunks (then one by one, until nothing more goes) while `diverges`
 * still holds, then functions nothing calls any more, and again. Fixed atoms (function entries,
 * final exits) stay, and loop control goes only as a whole, so every candidate terminates and no
 * pointer leaks into data.
 */
export async function minimize(
  program: FuzzProgram,
  diverges: (candidate: FuzzProgram) => Promise<boolean>,
  options: MinimizeOptions = {},
): Promise<FuzzProgram> {
  let tries = options.maxTries ?? 3000;
  let current = program;
  const attempt = async (groups: readonly number[][]) => {
    tries--;
    const candidate = removeAtoms(current, new Set(groups.flat()));
    if (!(await diverges(candidate))) return false;
    current = candidate;
    return true;
  };
  for (let round = 0; round < 3 && tries > 0; round++) {
    let chunk = 1;
    while (chunk * 2 <= removalGroups(current).length) chunk *= 2;
    for (;;) {
      let progress = false;
      for (let start = 0, groups = removalGroups(current); start < groups.length && tries > 0;) {
        if (await attempt(groups.slice(start, start + chunk))) {
          groups = removalGroups(current);
          progress = true;
        } else {
          start += chunk;
        }
      }
      if (tries <= 0 || (chunk === 1 && !progress)) break;
      chunk = Math.max(1, chunk >> 1);
    }
    let removedFunction = false;
    for (let dead = uncalledFunctions(current); dead.length > 0 && tries > 0; dead = uncalledFunctions(current)) {
      if (!(await attempt(dead))) break;
      removedFunction = true;
    }
    if (!removedFunction) break;
  }
  return current;
}

/**
 * For a divergence seen only in memory: the program with every exit of main replaced by a jump
 * to an epilogue that xors the first differing buffer word and main-frame stack word into r0, so
 * that the `.data` result shows it. Undefined when r0 already differs (or an error does), or when
 * the differing stack bytes are below main's frame, out of main's reach.
 */
export function foldMemoryIntoR0(program: FuzzProgram, divergence: Divergence): FuzzProgram | undefined {
  if (divergence.parts.includes('r0') || divergence.parts.includes('error')) return undefined;
  const loads: Instruction[] = [];
  const length = program.input.length;
  if (divergence.bufferOffset !== undefined) {
    const word = divergence.bufferOffset & ~7;
    loads.push(word + 8 <= length
      ? make(FIXED.ldxdw, { dst: 1, src: MAIN_BUFFER_REGISTER, off: word })
      : make(FIXED.ldxdw, { dst: 1, src: MAIN_BUFFER_REGISTER, off: length - 8 }));
  }
  const depth = divergence.stackDepth;
  if (depth !== undefined && depth <= 512) {
    loads.push(make(FIXED.ldxdw, { dst: 1, src: 10, off: -Math.ceil(depth / 8) * 8 }));
  }
  if (loads.length === 0) return undefined;

  const { insns } = program;
  const mainEnd = program.functions[1] ?? insns.length;
  const epilogue = slotsOf(insns);
  const body = insns.map((insn, i) =>
    i < mainEnd && specOf(insn.op) === FIXED.exit ? make(FIXED.ja, { pc: insn.pc, off: epilogue - insn.pc - 1 }) : insn);
  const tail = loads.flatMap((load) => [load, make(FIXED.xor64X, { dst: 0, src: 1 })]);
  tail.push(make(FIXED.exit, {}));
  let pc = epilogue;
  const placed = tail.map((insn) => {
    const at = pc;
    pc += width(insn);
    return { ...insn, pc: at };
  });
  return {
    ...program,
    insns: [...body, ...placed],
    atoms: [...program.atoms, { first: insns.length, count: placed.length, fixed: true }],
  };
}
