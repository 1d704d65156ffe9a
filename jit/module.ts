// Builds the WebAssembly module for one program: imports per jit/abi.ts, one function per BPF
// function, the callx table, the `run` entry that moves r1..r5 and r0 through the register file, and
// `repeat`, which runs it a number of times (a test run's repeats), and the `callback` entry helpers
// run address-taken functions through.
import type { Instruction } from '../isa/instruction.js';
import { width } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { buildModule, type Binaryen, type WasmModule } from './binaryen.js';
import { CALLX_HELPER_IMPORT, helperImportName, IMPORT_MODULE, PACKET_GLOBALS, REPEAT_EXPORT, RUN_EXPORT, TRAP_IMPORT } from './abi.js';
import { programStructure } from './cfg.js';
import { addMapOps } from './map-ops.js';
import { CALLBACK_GLOBALS, functionName, GLOBAL, Lowering, TABLE } from './lower.js';

/** How to compile. */
export interface CompileOptions {
  /** Optimisation level 0..4 (default 1: inlining and dead-code removal; see jit/binaryen.ts). */
  readonly optimize?: number;
  /** Also produce the WebAssembly text. */
  readonly text?: boolean;
  /** Helper 181 is Linux's bpf_loop: run its loop in WebAssembly instead of calling the helper. */
  readonly inlineLoop?: boolean;
  /**
   * Helpers 1, 2 and 164 are the runtime's map lookup, update and bpf_for_each_map_elem, and map
   * pointers are map descriptors (maps/descriptor.ts): run the common cases in WebAssembly
   * (jit/map-ops.ts, and the walk in jit/lower.ts).
   */
  readonly inlineMaps?: boolean;
}

/** A compiled program: the module bytes and what its imports need. */
export interface CompiledModule {
  readonly binary: Uint8Array;
  readonly text?: string;
  /** Helper ids the program calls directly (one `helper_<id>` import each). */
  readonly helperIds: readonly number[];
}

function addEntry(b: Binaryen, m: WasmModule, hasCallbacks: boolean): void {
  const i32 = b.i32;
  // Params, as jit/abi.ts lists them.
  const [REGS, R1_LO, R1_HI, ARGS_IN_FILE, FP, PACKET, PACKET_LENGTH, BUDGET, R0] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const regs = () => m.local.get(REGS, i32);
  // r2..r5 come from the register file when the host wrote them there, else they are 0.
  const arg = (r: number) => m.if(m.local.get(ARGS_IN_FILE, i32), m.i64.load(r * 8, 8, regs()), m.i64.const(0n));
  const r1 = m.i64.or(m.i64.extend_u(m.local.get(R1_LO, i32)), m.i64.shl(m.i64.extend_u(m.local.get(R1_HI, i32)), m.i64.const(32n)));
  m.addFunction(RUN_EXPORT, b.createType([i32, i32, i32, i32, i32, i32, i32, i32]), i32, [b.i64], m.block(null, [
    m.global.set(GLOBAL.regs, regs()),
    m.global.set(GLOBAL.packet, m.local.get(PACKET, i32)),
    m.global.set(GLOBAL.packetLength, m.local.get(PACKET_LENGTH, i32)),
    m.global.set(GLOBAL.budget, m.local.get(BUDGET, i32)),
    // A trap may have left a bpf_loop counted as running.
    ...(hasCallbacks ? [m.global.set(GLOBAL.loopDepth, m.i32.const(0))] : []),
    m.local.set(R0, m.call(functionName(0), [r1, arg(2), arg(3), arg(4), arg(5), m.local.get(FP, i32), m.i32.const(0)], b.i64)),
    // All of r0 goes to the register file; its low half is returned, which is all most callers read.
    m.i64.store(0, 8, regs(), m.local.get(R0, b.i64)),
    m.i32.wrap(m.local.get(R0, b.i64)),
  ], i32));
  m.addFunctionExport(RUN_EXPORT, RUN_EXPORT);
  // `repeat`: run's parameters and a count (at least 1); runs it that many times, returns the last r0's low half.
  const COUNT = 8;
  const runArgs = [REGS, R1_LO, R1_HI, ARGS_IN_FILE, FP, PACKET, PACKET_LENGTH, BUDGET].map((l) => m.local.get(l, i32));
  m.addFunction(REPEAT_EXPORT, b.createType([i32, i32, i32, i32, i32, i32, i32, i32, i32]), i32, [i32], m.block(null, [
    m.loop('again', m.block(null, [
      m.local.set(COUNT + 1, m.call(RUN_EXPORT, runArgs, i32)),
      m.local.set(COUNT, m.i32.sub(m.local.get(COUNT, i32), m.i32.const(1))),
      m.br('again', m.i32.gt_s(m.local.get(COUNT, i32), m.i32.const(0))),
    ])),
    m.local.get(COUNT + 1, i32),
  ], i32));
  m.addFunctionExport(REPEAT_EXPORT, REPEAT_EXPORT);
}

/** Lowers a validated program to a WebAssembly module. */
export function compileModule(b: Binaryen, insns: readonly Instruction[], options: CompileOptions = {}): CompiledModule {
  const last = insns[insns.length - 1]!;
  const structure = programStructure(insns, last.pc + width(last));
  const helperIds = [...new Set(insns.filter((i) => i.op === Op.CallHelper).map((i) => i.imm))].sort((x, y) => x - y);
  const finished = buildModule(b, (m) => {
    m.addFunctionImport(TRAP_IMPORT, IMPORT_MODULE, TRAP_IMPORT, b.createType([b.i32, b.i32, b.i32]), b.none);
    m.addFunctionImport(CALLX_HELPER_IMPORT, IMPORT_MODULE, CALLX_HELPER_IMPORT, b.createType([b.i32, b.i32]), b.none);
    for (const id of helperIds) m.addFunctionImport(helperImportName(id), IMPORT_MODULE, helperImportName(id), b.i32, b.none);
    const inlineMaps = (options.inlineMaps ?? false) && helperIds.some((id) => id === 1 || id === 2 || id === 164);
    const lowering = new Lowering(b, m, structure, options.inlineLoop ?? false, inlineMaps);
    if (inlineMaps) addMapOps(b, m);
    if (inlineMaps && lowering.hasCallbacks && helperIds.includes(164)) lowering.addForEach();
    const legacyLoads = insns.some((i) => specOf(i.op).form === 'ldabs' || specOf(i.op).form === 'ldind');
    const globals = Object.values(GLOBAL).filter((g) => (lowering.hasCallbacks || !CALLBACK_GLOBALS.includes(g))
      && (legacyLoads || (g !== GLOBAL.macHeader && g !== GLOBAL.networkHeader)));
    for (const name of globals) m.addGlobal(name, b.i32, true, m.i32.const(0));
    if (lowering.hasCallbacks) m.addGlobalExport(GLOBAL.loopDepth, GLOBAL.loopDepth);
    // The host moves the legacy loads' packet bounds when a helper changes the packet.
    if (legacyLoads) for (const name of PACKET_GLOBALS) m.addGlobalExport(name, name);
    for (const fn of structure.functions) lowering.lowerFunction(fn);
    const callable = structure.addressTaken.map(functionName);
    m.addTable(TABLE, callable.length, callable.length);
    if (callable.length) m.addActiveElementSegment(TABLE, 'callx_targets', callable, m.i32.const(0));
    addEntry(b, m, lowering.hasCallbacks);
    if (lowering.hasCallbacks) lowering.addCallbackEntry();
  }, { optimize: options.optimize ?? 1, ...(options.text ? { text: true } : {}) });
  return { ...finished, helperIds };
}
