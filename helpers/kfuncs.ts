// Kernel functions (kfuncs) this runtime implements, served through the helper table: each has a
// helper id in the reserved kfunc range (see table.ts), and the runtime rewrites a program's call by
// BTF id to such a kfunc into a helper call of that id at load. The kfuncs themselves live with
// their concept (dynptr.ts: the packet dynptr kfuncs).
import { CallSrc } from '../isa/fields.js';
import type { Instruction } from '../isa/instruction.js';
import { Op } from '../isa/opcodes.js';
import type { HelperSpec, HelperTable } from './table.js';

/** First helper id of the kfunc range (0x20000..0x2ffff), reserved for kfuncs; no Linux helper or extension uses it. */
export const KFUNC_ID_BASE = 0x20000;
/** Last helper id of the kfunc range. */
export const KFUNC_ID_LAST = 0x2ffff;

/** This runtime's helper ids of the kfuncs it implements (fixed once shipped). */
export const KfuncId = {
  dynptrFromXdp: KFUNC_ID_BASE,
  dynptrFromSkb: KFUNC_ID_BASE + 1,
  dynptrSlice: KFUNC_ID_BASE + 2,
  dynptrSliceRdwr: KFUNC_ID_BASE + 3,
} as const;

/** The kfunc a helper table serves under `name`, if any. */
export function kfuncByName(table: HelperTable, name: string): HelperSpec | undefined {
  for (const spec of table.values()) {
    if (spec.id >= KFUNC_ID_BASE && spec.id <= KFUNC_ID_LAST && spec.name === name) return spec;
  }
  return undefined;
}

/**
 * Rewrites a program's calls of kfuncs (by BTF id, at the pcs the loader found with their names)
 * into calls of the helper ids the table serves them under. Returns the first kfunc the table does
 * not serve, leaving the rest unchanged; undefined when all were rewritten.
 */
export function linkKfuncCalls(insns: Instruction[], calls: readonly { readonly pc: number; readonly name: string }[], table: HelperTable): { readonly pc: number; readonly name: string } | undefined {
  for (const call of calls) {
    const implemented = kfuncByName(table, call.name);
    if (!implemented) return call;
    const at = insns.findIndex((insn) => insn.pc === call.pc);
    insns[at] = { ...insns[at]!, op: Op.CallHelper, src: CallSrc.HELPER, imm: implemented.id };
  }
  return undefined;
}
