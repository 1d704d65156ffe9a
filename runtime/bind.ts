// Binding a program's map references to live maps: each `lddw rX, map` becomes a plain lddw of the
// map's handle address, and each `lddw rX, map_value + off` a plain lddw of the guest address of the
// value byte, as the kernel's verifier rewrites them to kernel pointers (resolve_pseudo_ldimm64).
import { Op, specOf } from '../isa/opcodes.js';
import { make, type Instruction } from '../isa/instruction.js';
import type { MapReference } from '../loader/object.js';

const LDDW = specOf(Op.Lddw);

/** The program's instructions with every reference replaced by the guest address `addressOf` gives it. */
export function bindReferences(insns: readonly Instruction[], references: readonly MapReference[], addressOf: (ref: MapReference) => number): Instruction[] {
  const out = insns.slice();
  const index = new Map(insns.map((insn, i) => [insn.pc, i]));
  for (const ref of references) {
    const i = index.get(ref.pc)!;
    const insn = out[i]!;
    out[i] = make(LDDW, { pc: insn.pc, dst: insn.dst, imm: addressOf(ref) | 0, immHi: 0 });
  }
  return out;
}
