// The helper ABI shared by both engines (DESIGN.md "Helper ABI"): before a helper runs, r1..r5
// are in a register file in guest memory (r0..r10 as 64-bit little-endian slots); the helper
// reads its arguments there and writes r0 there. Helpers are keyed by Linux BPF_FUNC_* ids.
// Id ranges: Linux's BPF_FUNC_* numbers; 0x10000..0x1ffff this runtime's extension helpers
// (DESIGN.md); 0x20000..0x2ffff reserved for the kfuncs it implements (kfuncs.ts), which a program
// calls by BTF id and the runtime rewrites into helper calls of these ids at load.
import { BpfError } from '../isa/errors.js';
import type { GuestMemory } from '../runtime/memory.js';
import type { Instruction } from '../isa/instruction.js';
import { Op } from '../isa/opcodes.js';
import { LINUX_HELPER_NAMES } from './linux-helper-names.js';
import { MAX_FRAMES } from '../isa/abi.js';
import type { PacketBounds } from '../runtime/run.js';

/** Bounds of no packet: every legacy load fails. */
export const NO_PACKET: PacketBounds = { start: 0, end: 0 };

/**
 * Argument kinds of a helper prototype (Linux enum bpf_arg_type), as the verifier checks them:
 * - 'anything': any initialised value (ARG_ANYTHING).
 * - 'const_map_ptr': a map from `lddw rX, map` (ARG_CONST_MAP_PTR); key and value arguments after it
 *   are sized by that map, and `mapTypes` may restrict its type.
 * - 'ptr_to_map_key' / 'ptr_to_map_value': readable memory of the map's key / value size.
 * - 'ptr_to_uninit_map_value': value-sized memory the helper fills (pop, peek).
 * - 'ptr_to_uninit_map_key': key-sized memory the helper fills (bpf_flow_map_peer's other key).
 * - 'ptr_to_map_value_or_null': value-sized readable memory, or NULL.
 * - 'ptr_to_mem' / 'ptr_to_mem_or_null': readable memory whose size is the next argument (or NULL with size 0).
 * - 'ptr_to_uninit_mem': memory the helper fills, sized by the next argument.
 * - 'const_size' / 'const_size_or_zero': the previous argument's size: bounded, > 0 unless "or_zero".
 * - 'const_alloc_size_or_zero': a known constant the helper allocates that many bytes for (ringbuf_reserve).
 * - 'ptr_to_ctx': the program's context, unmodified; 'ptr_to_ctx_or_null': that, or NULL (bpf_get_netns_cookie).
 * - 'ptr_to_func': a callback (`lddw rX, func`), run as `callback` says.
 * - 'ptr_to_stack_or_null': a pointer into the stack, or NULL (a callback's context).
 * - 'ptr_to_ringbuf_mem': a sample from bpf_ringbuf_reserve (with `releases`: given back by the call).
 * - 'ptr_to_spin_lock': the `struct bpf_spin_lock` of a map value, at a constant offset.
 * - 'ptr_to_sock_common': any socket pointer; 'ptr_to_socket': a full socket (PTR_TO_SOCKET).
 * - 'ptr_to_btf_id_sock_common': any socket pointer, or a BTF pointer to a socket (ARG_PTR_TO_BTF_ID_SOCK_COMMON).
 * - 'ptr_to_long': 8 bytes the helper writes a long into (bpf_strtol).
 * - 'ptr_to_const_str': a NUL-terminated string in read-only map memory (bpf_strncmp).
 * - 'ptr_to_uninit_dynptr': 16 bytes of stack the kfunc makes a dynptr of (Linux KF_ARG_PTR_TO_DYNPTR, ptr__uninit);
 *   'ptr_to_dynptr': an initialised dynptr on the stack.
 * - 'ptr_to_buffer_or_null': stack or other memory the kfunc may fill, sized by the next argument, or NULL (buffer__opt);
 *   'const_size_known': that size, a known constant (buffer__szk), which also sizes the returned memory.
 * - { kind: 'ptr_to_mem' | 'ptr_to_uninit_mem', size }: memory of a fixed size (ARG_PTR_TO_FIXED_SIZE_MEM).
 */
export type HelperArgKind =
  | 'anything' | 'const_map_ptr' | 'ptr_to_map_key' | 'ptr_to_map_value' | 'ptr_to_uninit_map_value' | 'ptr_to_uninit_map_key'
  | 'ptr_to_map_value_or_null'
  | 'ptr_to_mem' | 'ptr_to_mem_or_null' | 'ptr_to_uninit_mem' | 'const_size' | 'const_size_or_zero' | 'const_alloc_size_or_zero'
  | 'ptr_to_ctx' | 'ptr_to_ctx_or_null' | 'ptr_to_func' | 'ptr_to_stack_or_null' | 'ptr_to_ringbuf_mem' | 'ptr_to_spin_lock' | 'ptr_to_sock_common'
  | 'ptr_to_socket' | 'ptr_to_btf_id_sock_common' | 'ptr_to_long' | 'ptr_to_const_str'
  | 'ptr_to_uninit_dynptr' | 'ptr_to_dynptr' | 'ptr_to_buffer_or_null' | 'const_size_known';

/** One argument of a helper prototype. */
export type HelperArg = HelperArgKind | { readonly kind: 'ptr_to_mem' | 'ptr_to_uninit_mem'; readonly size: number };

/**
 * Return kinds of a helper prototype (Linux enum bpf_return_type): a scalar, nothing (r0 unreadable),
 * a value of the map argument's map (or NULL), a ring buffer sample of the allocated size (or NULL),
 * memory of the allocated size (or NULL), a socket pointer (or NULL), or a dynptr slice of the
 * 'const_size_known' size (or NULL): read-only, or writable for the _rdwr kfunc.
 */
export type HelperRet =
  | 'integer' | 'void' | 'ptr_to_map_value_or_null' | 'ptr_to_map_value' | 'ptr_to_ringbuf_mem_or_null' | 'ptr_to_mem_or_null'
  | 'ptr_to_socket_or_null' | 'ptr_to_sock_common_or_null' | 'ptr_to_tcp_sock_or_null'
  | 'dynptr_slice_or_null' | 'dynptr_slice_rdwr_or_null';

/** A helper's prototype: what the verifier checks at each call site (Linux struct bpf_func_proto). */
export interface HelperProto {
  readonly ret: HelperRet;
  readonly args: readonly HelperArg[];
  /** The returned pointer is a reference the program must give back (ringbuf samples, socket lookups). */
  readonly acquires?: boolean;
  /** The argument (1-based) whose reference the call gives back (bpf_ringbuf_submit, bpf_sk_release). */
  readonly releases?: number;
  /** The helper may move, grow or shrink the packet: packet pointers are invalid after the call. */
  readonly changesPacket?: boolean;
  /** Memory arguments may point into the packet (Linux pkt_access). */
  readonly packetAccess?: boolean;
  /** BPF_MAP_TYPE_* numbers the 'const_map_ptr' argument accepts (any map when absent). */
  readonly mapTypes?: readonly number[];
  /** How the 'ptr_to_func' argument is called: bpf_loop's (index, ctx), or once per map element (map, key, value, ctx). */
  readonly callback?: 'loop' | 'for_each_map_elem';
  /** The kind of dynptr a 'ptr_to_uninit_dynptr' argument becomes. */
  readonly dynptr?: 'xdp' | 'skb';
  /** A kfunc served as a helper (kfuncs.ts): messages follow Linux's for kfunc arguments. */
  readonly kfunc?: boolean;
}

/** Tail calls one chain of programs may take (Linux MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALLS = 33;

/** What a helper implementation sees: its arguments, the guest memory, and a way to return. */
export class HelperCall {
  /** Set by a helper to end the program after it returns, with r0 as the program's result. */
  stopRequested = false;
  /** Tail calls taken so far in the chain the current program runs in. */
  tailCallCount = 0;
  /** The program a tail-call helper asked to continue with, the context it passes, and the packet as it is then. */
  pendingTailCall: { readonly target: unknown; readonly ctx: bigint; readonly packet: PacketBounds } | undefined;

  /**
   * The packet the legacy ABS/IND loads read: set by the engine when a run starts, and by helpers
   * that move or resize an skb's data (setPacket), so later loads see the packet as Linux's do.
   */
  packet: PacketBounds = NO_PACKET;
  /** Installed by the engine: called after setPacket, for engines that keep the bounds elsewhere (the JIT's globals). */
  onPacketChange: (() => void) | undefined;

  /** A helper moved or resized the packet: later legacy loads (and a tail call's program) see these bounds. */
  setPacket(packet: PacketBounds): void {
    this.packet = packet;
    this.onPacketChange?.();
  }

  /** Whether another tail call is allowed in this chain. */
  canTailCall(): boolean {
    return this.tailCallCount < MAX_TAIL_CALLS;
  }

  /** Ends the current program and continues the chain with `target`, which gets `ctx` in r1. */
  requestTailCall(target: unknown, ctx: bigint): void {
    this.pendingTailCall = { target, ctx, packet: this.packet };
    this.stopRequested = true;
  }

  /**
   * Installed by the engine running the program: runs the BPF function a function pointer names
   * (low and high halves), with r1..r5 in the register file, and leaves its r0 there.
   */
  invokeFunction: ((slot: number, tag: number) => void) | undefined;
  /** Callbacks (BPF functions called from helpers) running now, innermost included. */
  callbackDepth = 0;
  /** r1..r5 of each helper that called back, as (lo, hi) halves, restored when its callback returns. */
  private readonly savedArgs = new Int32Array(10 * (MAX_FRAMES + 1));

  constructor(
    readonly memory: GuestMemory,
    /** Guest address of the register file (r0..r10, 8 bytes each). */
    readonly registers: number,
  ) {}

  /**
   * Calls the BPF function `pointer` names (the value `lddw rX, func` makes, as a program passes
   * it in a helper argument) with up to 5 arguments, and returns its r0, unsigned. As in Linux, it
   * runs in a new stack frame below the calling program's (counting toward the 8-frame limit), and
   * may not tail-call. The helper's own arguments stay readable through `arg()` afterwards.
   */
  callFunction(pointer: bigint, args: readonly (number | bigint)[] = []): bigint {
    const invoke = this.invokeFunction;
    if (!invoke) throw new Error('this engine cannot call BPF functions from helpers');
    if (args.length > 5) throw new RangeError(`a BPF function takes at most 5 arguments, not ${args.length}`);
    const base = this.registers;
    const saved = this.savedArgs;
    const at = this.callbackDepth * 10;
    let v = this.memory.view;
    for (let i = 0; i < 10; i++) saved[at + i] = v.getInt32(base + 8 + i * 4, true);
    for (let i = 0; i < 5; i++) {
      const value = args[i] ?? 0;
      const slot = base + (i + 1) * 8;
      if (typeof value === 'number' && Number.isSafeInteger(value)) {
        v.setInt32(slot, value | 0, true);
        v.setInt32(slot + 4, Math.floor(value / 4294967296) | 0, true);
      } else {
        v.setBigUint64(slot, BigInt.asUintN(64, BigInt(value)), true);
      }
    }
    const p = BigInt.asUintN(64, pointer);
    this.callbackDepth++;
    try {
      invoke(Number(p & 0xffffffffn), Number(p >> 32n));
      return this.memory.view.getBigUint64(base, true);
    } finally {
      this.callbackDepth--;
      v = this.memory.view;
      for (let i = 0; i < 10; i++) v.setInt32(base + 8 + i * 4, saved[at + i]!, true);
    }
  }

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
  /**
   * The JIT may run this helper's common cases in WebAssembly instead (jit/map-ops.ts,
   * jit/table-calls.ts): set on the map lookup, update and bpf_for_each_map_elem of an environment
   * whose map handles are map descriptors (maps/descriptor.ts), as a Runtime's are.
   */
  readonly compiledInWasm?: boolean;
}

/** Helpers by id. One table serves the engines, the verifier and the disassembler. */
export type HelperTable = ReadonlyMap<number, HelperSpec>;

/**
 * Helpers that keep nothing of a run's own on the host (no redirect target, socket reference or
 * pending tail call, which the host resets between runs), by id and the name they must have: a
 * program calling only these may repeat its runs inside an engine's own loop (a test run's repeats,
 * the replay lane).
 */
const RUN_STATELESS_HELPERS: ReadonlyMap<number, string> = new Map([
  [1, 'bpf_map_lookup_elem'], [2, 'bpf_map_update_elem'], [3, 'bpf_map_delete_elem'], [5, 'bpf_ktime_get_ns'], [6, 'bpf_trace_printk'],
  [7, 'bpf_get_prandom_u32'], [8, 'bpf_get_smp_processor_id'], [125, 'bpf_ktime_get_boot_ns'], [164, 'bpf_for_each_map_elem'], [181, 'bpf_loop'],
]);

/** Whether every helper a program calls (by id, through `table`) keeps nothing of a run's own on the host. */
export function runStateless(helperIds: Iterable<number>, table: HelperTable): boolean {
  for (const id of helperIds) if (table.get(id)?.name !== RUN_STATELESS_HELPERS.get(id)) return false;
  return true;
}

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
