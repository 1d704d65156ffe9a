// Runs JIT-compiled programs: compiles (through an in-memory cache keyed by the program bytes and
// the options), instantiates against the guest memory with the helper table bound to the
// imports, and turns the module's traps into the interpreter's typed errors.
import { FRAME_BYTES, frameViolation, FUNCTION_POINTER_TAG, MAX_FRAMES } from '../isa/abi.js';
import { BpfError } from '../isa/errors.js';
import { encode, type Instruction } from '../isa/instruction.js';
import { specOf } from '../isa/opcodes.js';
import { validate } from '../isa/validate.js';
import { HelperCall, NO_PACKET, resolveHelperCalls, runStateless, type HelperTable } from '../helpers/table.js';
import { loopHelper } from '../helpers/callbacks.js';
import {
  BudgetExhaustedError, CallbackTargetError, CallDepthError, ExecutionError, FellOffEndError, HelperFailedError, MemoryFaultError,
  TailCallInCallbackError, UnsupportedInstructionError,
} from '../runtime/execution-errors.js';
import { DEFAULT_BUDGET, RunOutcome, type RunArgs, type RunResult } from '../runtime/run.js';
import type { ContextEntry } from '../runtime/engine.js';
import type { GuestMemory, Region } from '../runtime/memory.js';
import { CALLBACK_EXPORT, CALLX_HELPER_IMPORT, helperImportName, IMPORT_MODULE, PACKET_GLOBALS, REPEAT_EXPORT, RUN_EXPORT, TRAP_IMPORT, TrapCode } from './abi.js';
import { loadBinaryen } from './binaryen.js';
import { compileModule, type CompileOptions } from './module.js';
import { GLOBAL } from './lower.js';
import { moduleStore } from './module-store.js';
import { sha256Hex } from './sha256.js';

/** A WebAssembly trap the lowering did not anticipate, such as an access outside the guest memory. */
export class WasmTrapError extends BpfError {
  constructor(cause: unknown) {
    super('wasm-trap', `WebAssembly trap in JIT-compiled code: ${(cause as Error).message} (the JIT relies on the verifier; run unverified programs on the interpreter)`, { cause });
  }
}


/** Thrown through the compiled code to end a run early: r0 is already in the register file. */
const STOP = Symbol('stop');

interface CacheEntry {
  readonly module: WebAssembly.Module;
  readonly helperIds: readonly number[];
  readonly compileMs: number;
}

/**
 * Compiled modules by program bytes, relocations and options, least recently used first. Bounded:
 * V8 frees a module's code only once nothing holds it, and an unbounded cache ran out of wasm
 * code space after ~33,000 programs in a long fuzzing run.
 */
const cache = new Map<string, Promise<CacheEntry>>();
let cacheLimit = 256;

/** Sets how many compiled modules the cache keeps (default 256); 0 turns caching off. */
export function setJitCacheLimit(limit: number): void {
  cacheLimit = Math.max(0, Math.floor(limit));
  while (cache.size > cacheLimit) cache.delete(cache.keys().next().value!);
}

/** Compiles a program to a WebAssembly.Module, or reuses the one compiled for the same bytes and options. */
export function compileCached(insns: readonly Instruction[], options: CompileOptions = {}, relocationKey = ''): Promise<CacheEntry> {
  const program = encode(insns);
  const suffix = new TextEncoder().encode(`\0${relocationKey}\0${JSON.stringify(options)}`);
  const keyed = new Uint8Array(program.length + suffix.length);
  keyed.set(program);
  keyed.set(suffix, program.length);
  const key = sha256Hex(keyed);
  let entry = cache.get(key);
  if (entry) {
    // Most recently used goes last.
    cache.delete(key);
    cache.set(key, entry);
  } else {
    entry = (async () => {
      // A module another process compiled (with the disk cache on) needs no binaryen.
      const store = moduleStore();
      const stored = store?.read(key);
      if (stored) return { module: new WebAssembly.Module(stored.binary as Uint8Array<ArrayBuffer>), helperIds: stored.helperIds, compileMs: 0 };
      const b = await loadBinaryen();
      const start = performance.now();
      const compiled = compileModule(b, insns, options);
      const module = new WebAssembly.Module(compiled.binary as Uint8Array<ArrayBuffer>);
      store?.write(key, compiled);
      return { module, helperIds: compiled.helperIds, compileMs: performance.now() - start };
    })();
    if (cacheLimit > 0) {
      cache.set(key, entry);
      entry.catch(() => cache.delete(key));
      while (cache.size > cacheLimit) cache.delete(cache.keys().next().value!);
    }
  }
  return entry;
}

/** Empties the module cache. */
export function clearJitCache(): void {
  cache.clear();
}

/** What the JIT needs to run a program. */
export interface JitOptions {
  readonly memory: GuestMemory;
  readonly helpers: HelperTable;
  /** Loop back-edges one run may take (default DEFAULT_BUDGET). */
  readonly budget?: number;
  /** Optimisation level 0..4 (default 1; see jit/binaryen.ts). */
  readonly optimize?: number;
}

type RunExport = (regs: number, r1Lo: number, r1Hi: number, argsInFile: number, fp: number, packet: number, packetLength: number, budget: number) => number;
type RepeatExport = (regs: number, r1Lo: number, r1Hi: number, argsInFile: number, fp: number, packet: number, packetLength: number, budget: number, count: number) => number;
type CallbackExport = (slot: number, pc: number) => void;

/** A compiled program instantiated over one guest memory, with its own stack and register file. */
export class JitExecutor {
  readonly stack: Region;
  private readonly registerFile: Region;
  private readonly call: HelperCall;
  private readonly runExport: RunExport;
  /** The module's `repeat`, when the program's runs may repeat inside WebAssembly (see RUN_STATELESS_HELPERS). */
  private readonly repeatExport: RepeatExport | undefined;
  /** Absent when the program takes no function's address: then nothing can be a callback. */
  private readonly callbackExport: CallbackExport | undefined;
  /** bpf_loop calls running in WebAssembly now (programs with callbacks only): their callbacks may not tail-call. */
  private readonly loopDepth: WebAssembly.Global | undefined;
  /** pc of the helper call running now: where its callbacks' traps are reported. */
  private helperPc = 0;
  private readonly budget: number;
  private readonly byPc = new Map<number, Instruction>();
  /** The exported header globals of a program with legacy loads (the run entry sets the packet's own bounds). */
  private readonly headerGlobals: { readonly macHeader: WebAssembly.Global; readonly networkHeader: WebAssembly.Global } | undefined;

  constructor(insns: readonly Instruction[], entry: CacheEntry, private readonly memory: GuestMemory, helpers: HelperTable, budget: number) {
    for (const insn of insns) this.byPc.set(insn.pc, insn);
    this.budget = Math.min(budget, 0x7fffffff);
    this.stack = memory.allocate(FRAME_BYTES * MAX_FRAMES, 'stack');
    this.registerFile = memory.allocate(8 * 11, 'register file', { writable: false });
    this.call = new HelperCall(memory, this.registerFile.start);
    this.call.invokeFunction = (slot, tag) => this.runCallback(slot, tag);
    const env: WebAssembly.ModuleImports = {
      memory: memory.memory,
      [TRAP_IMPORT]: (code: number, pc: number, value: number) => this.trap(code, pc, value),
      [CALLX_HELPER_IMPORT]: (id: number, pc: number) => {
        const helper = helpers.get(id >>> 0);
        if (!helper) throw new UnsupportedInstructionError(pc, `callx target 0x${(id >>> 0).toString(16)} is neither a function nor a known helper`);
        this.runHelper(pc, helper.name, helper.impl);
      },
    };
    for (const id of entry.helperIds) {
      const helper = helpers.get(id)!;
      env[helperImportName(id)] = (pc: number) => this.runHelper(pc, helper.name, helper.impl);
    }
    const instance = new WebAssembly.Instance(entry.module, { [IMPORT_MODULE]: env });
    this.runExport = instance.exports[RUN_EXPORT] as RunExport;
    // Programs with legacy loads export the globals holding their packet bounds; a helper that moves the packet updates them.
    const [packet, packetLength, macHeader, networkHeader] = PACKET_GLOBALS.map((name) => instance.exports[name] as WebAssembly.Global | undefined);
    if (packet && packetLength && macHeader && networkHeader) {
      this.headerGlobals = { macHeader, networkHeader };
      this.call.onPacketChange = () => {
        const bounds = this.call.packet;
        packet.value = bounds.start;
        packetLength.value = bounds.end - bounds.start;
        macHeader.value = bounds.macHeader ?? 0;
        networkHeader.value = bounds.networkHeader ?? 0;
      };
    }
    this.callbackExport = instance.exports[CALLBACK_EXPORT] as CallbackExport | undefined;
    // Legacy loads end a run through the host (TrapCode.ProgramExit), so their programs repeat from JS.
    const stateless = runStateless(entry.helperIds, helpers);
    if (stateless && !this.headerGlobals) this.repeatExport = instance.exports[REPEAT_EXPORT] as RepeatExport | undefined;
    this.loopDepth = instance.exports[GLOBAL.loopDepth] as WebAssembly.Global | undefined;
  }

  private runHelper(pc: number, name: string, impl: (call: HelperCall) => void): void {
    const call = this.call;
    call.stopRequested = false;
    this.helperPc = pc;
    try {
      impl(call);
    } catch (err) {
      // Traps and early ends inside a callback the helper ran are the callback's own.
      if (err === STOP || err instanceof ExecutionError || err instanceof WebAssembly.RuntimeError) throw err;
      throw new HelperFailedError(pc, name, err);
    }
    this.memory.refresh();
    if (call.stopRequested) {
      // Linux's verifier refuses tail calls in callbacks.
      if (call.pendingTailCall && (call.callbackDepth > 0 || (this.loopDepth?.value ?? 0) > 0)) throw new TailCallInCallbackError(pc);
      throw STOP;
    }
  }

  /** Runs an address-taken function for the helper running now, through the module's callback entry. */
  private runCallback(slot: number, tag: number): void {
    const pc = this.helperPc;
    const entry = this.callbackExport;
    if (tag !== FUNCTION_POINTER_TAG || !entry) throw new CallbackTargetError(pc, (BigInt(tag >>> 0) << 32n) | BigInt(slot >>> 0));
    try {
      entry(slot, pc);
    } finally {
      this.helperPc = pc;
    }
  }

  private trap(code: number, pc: number, value: number): never {
    switch (code as TrapCode) {
      case TrapCode.CallDepth: throw new CallDepthError(pc, MAX_FRAMES);
      case TrapCode.FellOffEnd: throw new FellOffEndError(pc);
      case TrapCode.CallxTarget: throw new UnsupportedInstructionError(pc, `callx target slot ${value >>> 0} is not a function whose address the program takes with lddw`);
      case TrapCode.UnresolvedLddw: throw new UnsupportedInstructionError(pc, `lddw with src ${value} (an unresolved map or BTF reference) needs the loader to resolve it`);
      case TrapCode.CallBtf: throw new UnsupportedInstructionError(pc, `call by BTF id ${value} (kfunc) is not supported`);
      case TrapCode.MisalignedAtomic: {
        const size = specOf(this.byPc.get(pc)!.op).size!;
        throw MemoryFaultError.misaligned(pc, value, size);
      }
      case TrapCode.Budget: throw new BudgetExhaustedError(pc, this.budget);
      case TrapCode.ProgramExit: throw STOP;
      case TrapCode.CallbackTarget: throw new CallbackTargetError(pc, (BigInt(FUNCTION_POINTER_TAG) << 32n) | BigInt(value >>> 0));
      case TrapCode.OutsideFrame: {
        const { access, size } = frameViolation(this.byPc.get(pc)!)!;
        throw MemoryFaultError.outsideFrame(pc, value, size, access);
      }
    }
    throw new BpfError('wasm-trap', `pc ${pc}: unknown trap code ${code}`);
  }

  run(input: RunArgs = {}): RunResult {
    const args = input.args;
    const regs = this.registerFile.start;
    // r1 crosses as two i32 halves; r2..r5, rarer, go through the register file.
    let r1Lo = 0;
    let r1Hi = 0;
    let argsInFile = 0;
    if (args !== undefined && args.length > 0) {
      const r1 = args[0]!;
      if (typeof r1 === 'number' && r1 >= 0 && r1 <= 0xffffffff) r1Lo = r1 | 0;
      else [r1Lo, r1Hi] = halves(r1);
      if (args.length > 1) {
        this.memory.refresh();
        const v = this.memory.view;
        for (let r = 2; r <= 5; r++) {
          const [lo, hi] = halves(args[r - 1] ?? 0);
          v.setInt32(regs + r * 8, lo, true);
          v.setInt32(regs + r * 8 + 4, hi, true);
        }
        argsInFile = 1;
      }
    }
    const call = this.call;
    call.tailCallCount = input.tailCalls ?? 0;
    call.pendingTailCall = undefined;
    call.callbackDepth = 0;
    const packet = input.packet ?? NO_PACKET;
    call.packet = packet;
    const headers = this.headerGlobals;
    if (headers) {
      headers.macHeader.value = packet.macHeader ?? 0;
      headers.networkHeader.value = packet.networkHeader ?? 0;
    }
    let lo: number;
    try {
      lo = this.runExport(regs, r1Lo, r1Hi, argsInFile, this.stack.end, packet.start, packet.end - packet.start, this.budget);
    } catch (err) {
      lo = this.endedEarly(err);
    }
    this.memory.refresh();
    return new RunOutcome(lo, this.memory.view.getInt32(regs + 4, true), undefined, call.pendingTailCall);
  }

  /**
   * A run with r1 = `ctx` (a guest address) and no packet bounds: what a hook does per packet. It
   * returns r0's low 32 bits, unsigned, and allocates nothing; `pendingTailCall` then says whether
   * the run ended in a tail call.
   */
  runContext(ctx: number): number {
    this.startContextRun();
    const headers = this.headerGlobals;
    if (headers) {
      headers.macHeader.value = 0;
      headers.networkHeader.value = 0;
    }
    try {
      return this.runExport(this.registerFile.start, ctx | 0, 0, 0, this.stack.end, 0, 0, this.budget) >>> 0;
    } catch (err) {
      return this.endedEarly(err) >>> 0;
    }
  }

  /**
   * `times` runs of runContext(ctx) inside WebAssembly, the last one's r0 returned, for programs
   * whose helpers keep no state of a run's own on the host; undefined (nothing run) for others.
   */
  repeatContext(ctx: number, times: number): number | undefined {
    const repeat = this.repeatExport;
    if (repeat === undefined) return undefined;
    this.startContextRun();
    try {
      return repeat(this.registerFile.start, ctx | 0, 0, 0, this.stack.end, 0, 0, this.budget, times) >>> 0;
    } catch (err) {
      throw trapped(err);
    }
  }

  /** The module's `run` and its fixed arguments, for programs repeatContext takes (see Executor.contextEntry). */
  contextEntry(): Omit<ContextEntry, 'counted'> | undefined {
    if (this.repeatExport === undefined) return undefined;
    return {
      run: this.runExport,
      registers: this.registerFile.start,
      framePointer: this.stack.end,
      budget: this.budget,
      begin: () => this.startContextRun(),
      settle: (err) => this.endedEarly(err) >>> 0,
    };
  }

  /** r0's low half when the compiled code ended the run early by throwing STOP (r0 is in the register file); any other throw goes on. */
  private endedEarly(err: unknown): number {
    if (err !== STOP) throw trapped(err);
    this.memory.refresh();
    return this.memory.view.getInt32(this.registerFile.start, true);
  }

  /** What a run on a context starts from: no tail call taken or pending, no callback running, no packet bounds. */
  private startContextRun(): void {
    const call = this.call;
    call.tailCallCount = 0;
    call.pendingTailCall = undefined;
    call.callbackDepth = 0;
    call.packet = NO_PACKET;
  }

  /** Where the last run's chain continues, if it ended in a tail call. */
  get pendingTailCall(): RunResult['tailCall'] {
    return this.call.pendingTailCall;
  }

  dispose(): void {
    this.memory.free(this.stack);
    this.memory.free(this.registerFile);
  }
}

/** A throw out of compiled code as callers see it: a WebAssembly trap the lowering did not anticipate becomes a WasmTrapError. */
function trapped(err: unknown): unknown {
  return err instanceof WebAssembly.RuntimeError ? new WasmTrapError(err) : err;
}

/** Whether the table's map helpers (1, 2, and 164 if present) are a runtime's, which compiled code may run itself. */
function inlinesMaps(helpers: HelperTable): boolean {
  const forEach = helpers.get(164);
  return (helpers.get(1)?.compiledInWasm ?? false) && (helpers.get(2)?.compiledInWasm ?? false) && (forEach === undefined || forEach.compiledInWasm === true);
}

/** A register value as its signed 32-bit halves (low, high). */
function halves(value: number | bigint): [number, number] {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return [value | 0, Math.floor(value / 4294967296) | 0];
  const v = BigInt.asUintN(64, BigInt(value));
  return [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];
}

/** Compiles (or reuses) a program and instantiates it over the guest memory. */
export async function createJitExecutor(insns: readonly Instruction[], options: JitOptions): Promise<JitExecutor> {
  validate(insns);
  resolveHelperCalls(insns, options.helpers);
  const entry = await compileCached(insns, {
    ...(options.optimize === undefined ? {} : { optimize: options.optimize }),
    ...(options.helpers.get(loopHelper.id) === loopHelper ? { inlineLoop: true } : {}),
    ...(inlinesMaps(options.helpers) ? { inlineMaps: true } : {}),
  });
  return new JitExecutor(insns, entry, options.memory, options.helpers, options.budget ?? DEFAULT_BUDGET);
}
