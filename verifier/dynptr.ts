// Dynptrs on the stack (Linux process_dynptr_func, mark_stack_slots_dynptr, is_dynptr_reg_valid_init,
// destroy_if_dynptr_stack_slot): a kfunc's `ptr__uninit` argument makes two 8-byte slots a dynptr;
// other kfuncs take it back initialised; plain stores over it destroy it (and its slices), reads of
// it as plain stack and helper writes into it are refused.
import type { Env } from './env.js';
import { reject } from './reject.js';
import { RegType, typeName, unknownScalar, type Reg } from './registers.js';
import { stackBounds, frameOf } from './stack.js';
import { forEachReg, slotAt, StackByte, type DynptrSlot, type Frame } from './state.js';
import { tnumIsConst } from './tnum.js';

/** 8-byte slots a `struct bpf_dynptr` takes (Linux BPF_DYNPTR_NR_SLOTS). */
const DYNPTR_SLOTS = 2;
const DYNPTR_BYTES = 'dddddddd';
const INVALID_BYTES = '????????';

/**
 * The slot index of the dynptr a stack pointer argument names (Linux process_dynptr_func's type
 * check, then dynptr_get_spi). Helpers check the type as for any argument (check_reg_type).
 */
function dynptrSpi(env: Env, regno: number, reg: Reg, kfunc: boolean): number {
  if (reg.type !== RegType.Stack) {
    reject('helper-arg', kfunc ? `arg#${regno - 1} expected pointer to stack or const struct bpf_dynptr` : `R${regno} type=${typeName(reg)} expected=fp, dynptr_ptr`, [regno]);
  }
  if (!tnumIsConst(reg.var)) reject('helper-arg', 'dynptr has to be at a constant offset', [regno]);
  const off = Number(BigInt.asIntN(64, reg.var.value)) + reg.off;
  const spi = (-off - 1) >> 3;
  if (off % 8 !== 0 || spi + 1 < DYNPTR_SLOTS) reject('helper-arg', `cannot pass in dynptr at an offset=${off}`, [regno]);
  stackBounds(env, regno, reg, reg.off, DYNPTR_SLOTS * 8, 'indirect access to');
  return spi;
}

/** Destroys the dynptr the slot `spi` is half of, and every slice of it (Linux destroy_if_dynptr_stack_slot, unreferenced dynptrs). */
function destroyDynptr(env: Env, frame: Frame, spi: number): void {
  const slot = slotAt(frame, spi);
  if (!slot.dynptr) return;
  const first = slot.dynptr.first ? spi : spi + 1;
  const id = slot.dynptr.id;
  for (const s of [first, first - 1]) frame.stack[s] = { types: INVALID_BYTES, spill: undefined };
  forEachReg(env.state, (reg, set) => {
    if (reg.dynptrId === id) set(unknownScalar());
  });
}

/** A `ptr__uninit` argument: its 16 bytes of stack become a dynptr of `kind` (Linux mark_stack_slots_dynptr). */
export function markDynptr(env: Env, regno: number, reg: Reg, kind: 'xdp' | 'skb', kfunc: boolean): void {
  const spi = dynptrSpi(env, regno, reg, kfunc);
  const frame = frameOf(env, reg);
  destroyDynptr(env, frame, spi);
  destroyDynptr(env, frame, spi - 1);
  const id = env.nextId();
  frame.stack[spi] = { types: DYNPTR_BYTES, spill: undefined, dynptr: { id, kind, first: true } };
  frame.stack[spi - 1] = { types: DYNPTR_BYTES, spill: undefined, dynptr: { id, kind, first: false } };
}

/** The initialised dynptr an argument points to (Linux is_dynptr_reg_valid_init), or a rejection. */
export function initializedDynptr(env: Env, regno: number, reg: Reg, kfunc: boolean): DynptrSlot {
  const spi = dynptrSpi(env, regno, reg, kfunc);
  const frame = frameOf(env, reg);
  const head = slotAt(frame, spi).dynptr;
  const tail = slotAt(frame, spi - 1).dynptr;
  if (!head || !head.first || !tail || tail.id !== head.id) reject('helper-arg', `Expected an initialized dynptr as arg #${regno - 1}`, [regno]);
  return head;
}

/** A plain store to [min, max) of a frame destroys the dynptrs it touches (Linux check_stack_write_*). */
export function destroyDynptrsIn(env: Env, frame: Frame, min: number, max: number): void {
  for (let spi = (-min - 1) >> 3; spi >= (-max) >> 3; spi--) destroyDynptr(env, frame, spi);
}

/** Reads of [min, max) as plain stack may not touch a dynptr (Linux check_stack_read_fixed_off, check_stack_range_initialized). */
export function checkNoDynptrRead(frame: Frame, min: number, max: number, regno?: number): void {
  for (let off = min; off < max; off++) {
    const slot = slotAt(frame, (-off - 1) >> 3);
    if (slot.types[(-off - 1) & 7] !== StackByte.DYNPTR) continue;
    reject('stack-range', regno === undefined
      ? `invalid read from stack off ${min}+${off - min} size ${max - min}`
      : `invalid read from stack R${regno} off ${min}+${off - min} size ${max - min}`);
  }
}

/** A helper may not fill memory that holds a dynptr (Linux check_stack_range_initialized, raw mode). */
export function checkNoDynptrWrite(frame: Frame, min: number, max: number): void {
  for (let off = min; off < max; off++) {
    const slot = slotAt(frame, (-off - 1) >> 3);
    if (slot.types[(-off - 1) & 7] === StackByte.DYNPTR) reject('helper-arg', `potential write to dynptr at off=${off} disallowed`);
  }
}
