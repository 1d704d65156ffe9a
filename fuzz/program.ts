// A generated program's layout: instruction drafts with symbolic targets, the atoms the
// minimizer removes (fuzz/minimize.ts), and linking drafts into instruction records.
import { type Instruction, make } from '../isa/instruction.js';
import type { OpcodeSpec } from '../isa/opcodes.js';

/** A run of instructions the minimizer removes together; `fixed` ones it never removes. */
export interface Atom {
  /** Index of the first instruction in `insns`. */
  readonly first: number;
  readonly count: number;
  /**
   * Function entries that copy pointer arguments, and final exits: removing them could leak a
   * pointer into data or run off the end of a function.
   */
  readonly fixed: boolean;
  /**
   * Atoms sharing a unit are removed together or not at all: a loop's counter initialisation,
   * exit test, decrement and back edge (removing only some could make it run forever).
   */
  readonly unit?: number;
}

/** A generated program and its input. */
export interface FuzzProgram {
  readonly seed: number;
  readonly insns: readonly Instruction[];
  /** The buffer r1 points at on entry. */
  readonly input: Uint8Array;
  /** Consecutive groups covering every instruction, in order. */
  readonly atoms: readonly Atom[];
  /** Index in `insns` of each function's first instruction; main is first, at 0. */
  readonly functions: readonly number[];
}

/** A code position, placed while generating and resolved to a pc when linking. */
export interface Label {
  pc: number;
}

/** Instruction fields a draft sets (the rest come from its table row). */
export interface Fields {
  dst?: number;
  src?: number;
  off?: number;
  imm?: number;
  immHi?: number;
}

/** An instruction before linking: its row, fields, jump or call target, and atom. */
export interface Draft {
  readonly row: OpcodeSpec;
  readonly fields: Fields;
  readonly target: Label | undefined;
  readonly atom: number;
  readonly fixed: boolean;
  readonly unit: number | undefined;
}

/** What a function's code is made of while it is generated. */
export type Item = Draft | Label;

/** Atom and unit numbering shared by a program's functions. */
export class AtomCounter {
  private last = 0;
  private lastUnit = 0;
  private group: number | undefined;
  private groupFixed = false;
  private groupUnit: number | undefined;

  current(): { atom: number; fixed: boolean; unit: number | undefined } {
    return this.group !== undefined
      ? { atom: this.group, fixed: this.groupFixed, unit: this.groupUnit }
      : { atom: ++this.last, fixed: false, unit: undefined };
  }

  /** A new unit number. */
  unit(): number {
    return ++this.lastUnit;
  }

  /** Runs `body` with every instruction it emits in one atom (joining an enclosing group). */
  within(fixed: boolean, body: () => void, unit?: number): void {
    const [outer, outerFixed, outerUnit] = [this.group, this.groupFixed, this.groupUnit];
    if (outer === undefined) {
      this.group = ++this.last;
      this.groupUnit = unit;
    }
    this.groupFixed = outerFixed || fixed;
    try {
      body();
    } finally {
      this.group = outer;
      this.groupFixed = outerFixed;
      this.groupUnit = outerUnit;
    }
  }
}

/** Lays the functions out in order and resolves labels into jump offsets and call immediates. */
export function link(functions: readonly { readonly items: readonly Item[] }[]): Pick<FuzzProgram, 'insns' | 'atoms' | 'functions'> {
  const drafts: Draft[] = [];
  const pcs: number[] = [];
  const starts: number[] = [];
  let pc = 0;
  for (const f of functions) {
    starts.push(drafts.length);
    for (const item of f.items) {
      if ('row' in item) {
        drafts.push(item);
        pcs.push(pc);
        pc += item.row.width;
      } else {
        item.pc = pc;
      }
    }
  }
  const insns = drafts.map((d, i) => {
    const fields = { ...d.fields };
    if (d.target) {
      const delta = d.target.pc - pcs[i]! - 1;
      if (d.row.form === 'ja' || d.row.form === 'jcc' || d.row.form === 'maygoto') fields.off = delta;
      else fields.imm = delta;
    }
    return make(d.row, { pc: pcs[i]!, ...fields });
  });
  const atoms: Atom[] = [];
  drafts.forEach((d, i) => {
    const last = atoms[atoms.length - 1];
    if (last && drafts[last.first]!.atom === d.atom) atoms[atoms.length - 1] = { ...last, count: last.count + 1, fixed: last.fixed || d.fixed };
    else atoms.push({ first: i, count: 1, fixed: d.fixed, ...(d.unit !== undefined ? { unit: d.unit } : {}) });
  });
  return { insns, atoms, functions: starts };
}
