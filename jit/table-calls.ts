// Module functions that call the program's address-taken functions through the function table for
// the host or for an inlined helper: the `callback` export helpers run callbacks through, and
// `map_for_each`, bpf_for_each_map_elem's walk over an array or hash map (maps/descriptor.ts).
import { FRAME_BYTES, MAX_FRAMES } from '../isa/abi.js';
import { Descriptor, DescriptorOps } from '../maps/descriptor.js';
import { UNLINKED } from '../maps/key-index.js';
import { CALLBACK_EXPORT, TRAP_IMPORT, TrapCode } from './abi.js';
import type { Binaryen, Expr, WasmModule, WasmType } from './binaryen.js';
import { GLOBAL, TABLE } from './lower.js';
import { MAP_OPS } from './map-ops.js';

/** The module function that walks an array or hash map for bpf_for_each_map_elem. */
export const FOR_EACH_FUNCTION = 'map_for_each';

/**
 * The `callback(slot, pc)` export (programs with callbacks only) a helper uses to run an address-taken function: in the frame
 * below the helper's caller, with r1..r5 from the register file and r0 back there. Each callback
 * spends one unit of the loop budget, as a loop iteration does. The caller's frame globals are
 * restored afterwards, for the helper's next callback.
 */
export function addCallbackEntry(b: Binaryen, m: WasmModule, params: WasmType, tableIndex: (slot: () => Expr) => Expr): void {
  const i32 = b.i32;
  // Params: slot, pc; locals: the caller's fp and depth, the table index.
  const SLOT = 0;
  const PC = 1;
  const CALLER_FP = 2;
  const CALLER_DEPTH = 3;
  const INDEX = 4;
  const regs = () => m.global.get(GLOBAL.regs, i32);
  const pc = () => m.local.get(PC, i32);
  const trap = (code: TrapCode, value: Expr) => m.block(null, [m.call(TRAP_IMPORT, [m.i32.const(code), pc(), value], b.none), m.unreachable()]);
  const depth = () => m.local.get(CALLER_DEPTH, i32);
  const args = [1, 2, 3, 4, 5].map((r) => m.i64.load(r * 8, 8, regs()));
  args.push(m.i32.sub(m.local.get(CALLER_FP, i32), m.i32.const(FRAME_BYTES)), m.i32.add(depth(), m.i32.const(1)));
  const body = m.block(null, [
    m.local.set(CALLER_FP, m.global.get(GLOBAL.callerFp, i32)),
    m.local.set(CALLER_DEPTH, m.global.get(GLOBAL.callerDepth, i32)),
    m.local.set(INDEX, tableIndex(() => m.local.get(SLOT, i32))),
    m.if(m.i32.lt_s(m.local.get(INDEX, i32), m.i32.const(0)), trap(TrapCode.CallbackTarget, m.local.get(SLOT, i32))),
    m.if(m.i32.ge_u(m.i32.add(depth(), m.i32.const(1)), m.i32.const(MAX_FRAMES)), trap(TrapCode.CallDepth, m.i32.const(0))),
    m.if(m.i32.eqz(m.global.get(GLOBAL.budget, i32)), trap(TrapCode.Budget, m.i32.const(0))),
    m.global.set(GLOBAL.budget, m.i32.sub(m.global.get(GLOBAL.budget, i32), m.i32.const(1))),
    m.i64.store(0, 8, regs(), m.call_indirect(TABLE, m.local.get(INDEX, i32), args, params, b.i64)),
    m.global.set(GLOBAL.callerFp, m.local.get(CALLER_FP, i32)),
    m.global.set(GLOBAL.callerDepth, depth()),
  ]);
  m.addFunction(CALLBACK_EXPORT, b.createType([i32, i32]), b.none, [i32, i32, i32], body);
  m.addFunctionExport(CALLBACK_EXPORT, CALLBACK_EXPORT);
}

/**
 * `map_for_each(map i64, index i32, ctx i64, fp i32, depth i32, pc i32) -> i64`: the walk of
 * bpf_for_each_map_elem over an array (every index, the key in the map's walk-key slot for this
 * call depth) or a hash map (insertion order, next element read before the callback, deleted ones
 * skipped: HashTableMap.walkElements), calling table function `index` in the frame below the
 * caller's until it returns non-zero. Each callback spends one unit of the loop budget; returns
 * how many elements it visited. Programs with callbacks and inlined map operations only.
 */
export function addForEach(b: Binaryen, m: WasmModule, params: WasmType): void {
  const i32 = b.i32;
  const i64 = b.i64;
  const zero = () => m.i64.const(0n);
  const [MAP, INDEX, CTX, CALLER_FP, CALLER_DEPTH, PC, DESC, OPS, S, NEXT, AT, CPU_OFF, VISITED] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const get = (i: number) => m.local.get(i, i32);
  const set = (i: number, v: Expr) => m.local.set(i, v);
  const field = (f: Descriptor) => m.i32.load(f, 4, get(DESC));
  const trap = (code: TrapCode) => m.block(null, [m.call(TRAP_IMPORT, [m.i32.const(code), get(PC), m.i32.const(0)], b.none), m.unreachable()]);
  const loopDepth = (delta: number) => m.global.set(GLOBAL.loopDepth, m.i32.add(m.global.get(GLOBAL.loopDepth, i32), m.i32.const(delta)));
  // One callback: spend a unit of the budget, call, and stop the walk on a non-zero return.
  const visit = (key: Expr, value: Expr) => m.block(null, [
    set(VISITED, m.i32.add(get(VISITED), m.i32.const(1))),
    m.if(m.i32.eqz(m.global.get(GLOBAL.budget, i32)), trap(TrapCode.Budget)),
    m.global.set(GLOBAL.budget, m.i32.sub(m.global.get(GLOBAL.budget, i32), m.i32.const(1))),
    m.br('walked', m.i64.ne(m.call_indirect(TABLE, get(INDEX), [
      m.local.get(MAP, i64), m.i64.extend_u(key), m.i64.extend_u(value), m.local.get(CTX, i64), zero(),
      m.i32.sub(get(CALLER_FP), m.i32.const(FRAME_BYTES)), m.i32.add(get(CALLER_DEPTH), m.i32.const(1)),
    ], params, i64), zero())),
  ]);
  const arrayWalk = m.block(null, [
    // AT: this depth's key slot.
    set(AT, m.i32.add(field(Descriptor.WalkKeys), m.i32.shl(get(CALLER_DEPTH), m.i32.const(2)))),
    set(S, m.i32.const(0)),
    m.loop('array_elements', m.if(m.i32.lt_u(get(S), field(Descriptor.MaxEntries)), m.block(null, [
      m.i32.store(0, 4, get(AT), get(S)),
      visit(get(AT), m.i32.add(m.i32.add(field(Descriptor.Storage), m.i32.mul(get(S), field(Descriptor.Stride))), get(CPU_OFF))),
      set(S, m.i32.add(get(S), m.i32.const(1))),
      m.br('array_elements'),
    ]))),
  ]);
  const hashWalk = m.block(null, [
    set(S, m.i32.load(0, 4, field(Descriptor.OrderEnds))),
    m.loop('hash_elements', m.if(m.i32.ne(get(S), m.i32.const(-1)), m.block(null, [
      set(NEXT, m.i32.load(0, 4, m.i32.add(field(Descriptor.OrderNext), m.i32.shl(get(S), m.i32.const(2))))),
      // A deleted element keeps its order links but leaves the index (its chain link says UNLINKED).
      m.if(m.i32.ne(m.i32.load(0, 4, m.i32.add(field(Descriptor.Chain), m.i32.shl(get(S), m.i32.const(2)))), m.i32.const(UNLINKED)), m.block(null, [
        set(AT, m.call(MAP_OPS.slot, [get(DESC), get(S)], i32)),
        visit(get(AT), m.i32.add(m.i32.add(get(AT), field(Descriptor.ValueOffset)), get(CPU_OFF))),
      ])),
      set(S, get(NEXT)),
      m.br('hash_elements'),
    ]))),
  ]);
  const body = m.block(null, [
    set(DESC, m.i32.wrap(m.local.get(MAP, i64))),
    set(OPS, field(Descriptor.Ops)),
    set(CPU_OFF, m.call(MAP_OPS.cpuOffset, [get(DESC)], i32)),
    set(VISITED, m.i32.const(0)),
    m.if(m.i32.ge_u(m.i32.add(get(CALLER_DEPTH), m.i32.const(1)), m.i32.const(MAX_FRAMES)), trap(TrapCode.CallDepth)),
    // Callbacks may not tail-call: the host sees that one is running by this count.
    loopDepth(1),
    m.block('walked', [m.if(m.i32.eq(get(OPS), m.i32.const(DescriptorOps.Array)), arrayWalk, hashWalk)]),
    loopDepth(-1),
    m.i64.extend_u(get(VISITED)),
  ], i64);
  m.addFunction(FOR_EACH_FUNCTION, b.createType([i64, i32, i64, i32, i32, i32]), i64, [i32, i32, i32, i32, i32, i32, i32], body);
}
