// The abstract machine state the verifier walks each path with (Linux bpf_verifier_state and
// bpf_func_state): call frames with their registers and stack, acquired references, the held spin
// lock, and the path taken so far. States are mutable while a path is walked; forks and checkpoints
// take copies. Registers and stack slots are immutable values, so copies share them.
import { FRAME_POINTER } from '../isa/fields.js';
import { NOT_INIT, pointer, RegType, type MapInfo, type Reg } from './registers.js';

/** Kinds of stack bytes (Linux STACK_*); a slot's `types` spells one character per byte. */
export const StackByte = { INVALID: '?', SPILL: 'r', MISC: 'm', ZERO: '0', DYNPTR: 'd' } as const;

/** A stack slot that is half of a dynptr (Linux STACK_DYNPTR with spilled_ptr.dynptr). */
export interface DynptrSlot {
  readonly id: number;
  readonly kind: 'xdp' | 'skb';
  /** The slot at the dynptr's start (its lower address: the higher spi). */
  readonly first: boolean;
}

/**
 * One 8-byte stack slot. `types[k]` describes the byte at frame offset -8*(spi+1) + (7 - k): k = 0 is
 * the slot's highest byte, as Linux orders slot_type. A spilled register sits at the slot's base.
 */
export interface Slot {
  readonly types: string;
  readonly spill: Reg | undefined;
  /** Set when the slot's bytes are all StackByte.DYNPTR. */
  readonly dynptr?: DynptrSlot;
}

/** A slot never written. */
export const EMPTY_SLOT: Slot = Object.freeze({ types: '????????', spill: undefined });

/** A reference the program holds and must give back (ringbuf sample, socket). */
export interface Reference {
  readonly id: number;
  /** Instruction that acquired it. */
  readonly pc: number;
  readonly kind: 'ringbuf' | 'socket';
  /** The callback frame that acquired it, which must give it back before returning (0: none). */
  readonly frame: number;
}

/** A held bpf_spin_lock: the id of the map value it lives in. */
export interface HeldLock {
  readonly id: number;
  readonly map: MapInfo | undefined;
}

/** One call frame. */
export interface Frame {
  regs: Reg[];
  /** Slots by index (spi): slot spi holds frame offsets [-8*(spi+1), -8*spi). */
  stack: Slot[];
  /** Deepest stack byte the frame has touched, as a positive count (Linux allocated_stack). */
  stackDepth: number;
  /** pc of the call that made this frame (-1 for the program's own). */
  callsite: number;
  frameNo: number;
  subprog: number;
  /** A callback a helper calls (bpf_loop, for_each_map_elem, timers). */
  inCallback: boolean;
  /** The range a callback's return value must be in. */
  callbackRet: readonly [number, number];
  /** The helper that called the callback (bpf_loop's id, ...), 0 otherwise. */
  callbackHelper: number;
  /** Callbacks this frame's helper call has run on this path (bounds bpf_loop's unrolling). */
  callbackDepth: number;
}

/** An entry of a path: the instruction executed, where it came from, and what it touched. */
export interface PathNode {
  readonly pc: number;
  readonly frame: number;
  readonly prev: PathNode | undefined;
  /** Stack slot a load or store went through (frame offset), for the causal path. */
  readonly stackOff?: number;
  readonly stackFrame?: number;
  /** A conditional jump that compared a packet pointer with another, or tested a maybe-NULL pointer. */
  readonly check?: 'packet' | 'null';
}

/** The state of one path. */
export interface State {
  frames: Frame[];
  refs: Reference[];
  lock: HeldLock | undefined;
  /** may_goto taken so far on this path (loops bounded by it may prune against themselves). */
  mayGotoDepth: number;
  /** Callback bodies entered on this path, by the calling instruction (bounds bpf_loop unrolling). */
  callbackDepth: number;
  /** The instructions that led here, most recent first. */
  path: PathNode | undefined;
  /** Number of instructions on the path. */
  pathLength: number;
  /** Checkpoint this state descends from, for branch counting. */
  parent: Checkpoint | undefined;
}

/** A state stored at a prune point, to compare later paths against. */
export interface Checkpoint {
  readonly state: State;
  readonly pc: number;
  /** Paths from here still being explored; 0 once every one finished. */
  branches: number;
  readonly parent: Checkpoint | undefined;
  /** How many later states this one pruned, and how many it did not (to evict useless ones). */
  hits: number;
  misses: number;
}

/** A new frame with only r10 (and, for the program, r1) set. */
export function newFrame(frameNo: number, callsite: number, subprog: number): Frame {
  const regs = new Array<Reg>(11).fill(NOT_INIT);
  regs[FRAME_POINTER] = pointer(RegType.Stack, { frameNo });
  return { regs, stack: [], stackDepth: 0, callsite, frameNo, subprog, inCallback: false, callbackRet: [0, 0], callbackHelper: 0, callbackDepth: 0 };
}

function copyFrame(f: Frame): Frame {
  return { ...f, regs: f.regs.slice(), stack: f.stack.slice() };
}

/** A copy that shares the immutable parts (registers, slots, path). */
export function copyState(s: State): State {
  return { ...s, frames: s.frames.map(copyFrame), refs: s.refs.slice() };
}

/** The innermost frame. */
export function curFrame(s: State): Frame {
  return s.frames[s.frames.length - 1]!;
}

/** The slot at index spi (an empty one if never written). */
export function slotAt(f: Frame, spi: number): Slot {
  return f.stack[spi] ?? EMPTY_SLOT;
}

/** Whether the slot holds a spilled register (at its base). */
export function isSpilled(slot: Slot): boolean {
  return slot.types[7] === StackByte.SPILL && slot.spill !== undefined;
}

/** Whether the slot holds a spilled register filling all 8 bytes. */
export function isSpilledFull(slot: Slot): boolean {
  return slot.types === 'rrrrrrrr' && slot.spill !== undefined;
}

/** Calls `fn` on every register and spilled register of every frame, with a setter for it. */
export function forEachReg(s: State, fn: (reg: Reg, set: (r: Reg) => void, frame: Frame) => void): void {
  for (const f of s.frames) {
    for (let i = 0; i < f.regs.length; i++) fn(f.regs[i]!, (r) => { f.regs[i] = r; }, f);
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi];
      if (!slot || !slot.spill || !isSpilled(slot)) continue;
      fn(slot.spill, (r) => { f.stack[spi] = { types: slot.types, spill: r }; }, f);
    }
  }
}

/** Appends an instruction to the state's path. */
export function recordStep(s: State, pc: number, extra?: { stackOff?: number; stackFrame?: number; check?: 'packet' | 'null' }): void {
  s.path = extra ? { pc, frame: s.frames.length - 1, prev: s.path, ...extra } : { pc, frame: s.frames.length - 1, prev: s.path };
  s.pathLength++;
}
