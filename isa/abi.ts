// The BPF calling convention both engines follow (Linux's, where RFC 9669 is silent): stack
// frames, call depth, and how a function pointer from `lddw rX, func` is represented.
import { FRAME_POINTER } from './fields.js';
import type { Instruction } from './instruction.js';
import { specOf } from './opcodes.js';

/** Bytes of stack per call frame (Linux MAX_BPF_STACK). */
export const FRAME_BYTES = 512;
/** Call frames, the main program's included (Linux MAX_CALL_FRAMES). */
export const MAX_FRAMES = 8;
/**
 * High half of a function pointer made by `lddw rX, func` (src 4); the low half is the slot of the
 * function's first instruction. callx with any other value calls the helper of that id
 * (the convention bpf_conformance's callx test expects).
 */
export const FUNCTION_POINTER_TAG = 1;

/**
 * For a load, store or atomic addressed through r10 itself, the access when it leaves the current
 * frame [r10 - 512, r10): Linux's verifier refuses those, and both engines trap on them when run.
 * Accesses through other registers (pointers into a caller's frame) are checked as memory.
 */
export function frameViolation(insn: Instruction): { access: 'read' | 'write'; size: number } | undefined {
  const row = specOf(insn.op);
  const base = row.form === 'ldx' ? insn.src : row.form === 'st' || row.form === 'stx' || row.form === 'atomic' ? insn.dst : -1;
  if (base !== FRAME_POINTER) return undefined;
  const size = row.size!;
  if (insn.off >= -FRAME_BYTES && insn.off + size <= 0) return undefined;
  return { access: row.form === 'ldx' ? 'read' : 'write', size };
}

/**
 * may_goto's budget (Linux BPF_MAX_LOOPS): each call of a function that contains may_goto starts a
 * counter at this value; each may_goto decrements it and jumps once it is zero. Deviation: Linux
 * 6.13+ on x86-64 may also give up after a time limit; here the count is the only limit.
 */
export const MAY_GOTO_LOOPS = 1 << 23;

/** Legacy packet loads (LD_ABS/LD_IND): offsets at and above this count from the network header (Linux SKF_NET_OFF). */
export const SKF_NET_OFF = -0x100000;
/** Offsets from this up to SKF_NET_OFF count from the MAC header (Linux SKF_LL_OFF); lower ones fail. */
export const SKF_LL_OFF = -0x200000;

/**
 * The guest address a legacy packet load of `size` bytes at the (s32) `offset` reads, or -1 when
 * it fails and the program ends with r0 = 0 (Linux bpf_skb_load_helper_*): a non-negative offset
 * counts from `start`, SKF_NET_OFF and SKF_LL_OFF offsets from the network and MAC headers (0: absent),
 * and the bytes must end by `end`.
 */
export function legacyLoadAddress(start: number, end: number, macHeader: number, networkHeader: number, offset: number, size: number): number {
  let at: number;
  if (offset >= 0) at = start + offset;
  else if (offset >= SKF_NET_OFF && networkHeader !== 0) at = networkHeader + (offset - SKF_NET_OFF);
  else if (offset >= SKF_LL_OFF && offset < SKF_NET_OFF && macHeader !== 0) at = macHeader + (offset - SKF_LL_OFF);
  else return -1;
  return at + size <= end ? at : -1;
}
