// Lowers BPF functions to WebAssembly functions (through the binaryen wrapper; this file never
// imports binaryen): basic blocks structured by binaryen's Relooper, the loop budget, calls of
// helpers, local functions and callbacks, legacy packet loads. Single instructions are lowered by
// jit/lower-insns.ts, with the interpreter's semantics.
import type { Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { branchTarget } from '../isa/validate.js';
import { FRAME_BYTES, frameViolation, FUNCTION_POINTER_TAG, MAX_FRAMES, MAY_GOTO_LOOPS, SKF_LL_OFF, SKF_NET_OFF } from '../isa/abi.js';
import type { Binaryen, Expr, Relooper, WasmModule, WasmType } from './binaryen.js';
import { CALLX_HELPER_IMPORT, helperImportName, TRAP_IMPORT, TrapCode } from './abi.js';
import type { BasicBlock, BpfFunction, ProgramStructure } from './cfg.js';
import { countedLoops } from './counted-loops.js';
import { BPF_MAX_LOOPS } from '../helpers/callbacks.js';
import { Errno } from '../maps/constants.js';
import { FALLBACK, MAP_OPS } from './map-ops.js';
import { Descriptor, DescriptorOps } from '../maps/descriptor.js';
import { addCallbackEntry, addForEach, FOR_EACH_FUNCTION } from './table-calls.js';
import { ADDR, DEPTH, FP, FRAME_POINTER_REGISTER, InstructionLowering, LABEL, MAY_GOTO, REG, T0 } from './lower-insns.js';

/** Linux's id of bpf_loop, which the lowering may run in WebAssembly (see loopCall). */
const BPF_LOOP = 181;
/** Linux's ids of bpf_map_lookup_elem and bpf_map_update_elem, which may run in WebAssembly (see mapCall). */
const BPF_MAP_LOOKUP = 1;
const BPF_MAP_UPDATE = 2;
/** Linux's id of bpf_for_each_map_elem, whose walk may run in WebAssembly (see forEachCall). */
const BPF_FOR_EACH_MAP_ELEM = 164;

/** The block a function's back edges leave when the budget is spent, to the trap after it. */
const BUDGET_SPENT = 'budget$spent';

/**
 * Names of the module-level globals the lowered code uses. `caller_fp` and `caller_depth` hold the
 * frame pointer and depth of the function calling a helper, where a callback the helper makes starts.
 */
export const GLOBAL = {
  regs: 'regs', budget: 'budget', packet: 'packet', packetLength: 'packet_length', callerFp: 'caller_fp', callerDepth: 'caller_depth',
  macHeader: 'mac_header', networkHeader: 'network_header', loopDepth: 'loop_depth',
} as const;
/** Globals only programs with callbacks have; `loop_depth` counts bpf_loop calls running in WebAssembly (exported). */
export const CALLBACK_GLOBALS: readonly string[] = [GLOBAL.callerFp, GLOBAL.callerDepth, GLOBAL.loopDepth];
export const TABLE = 'functions';

/** The WebAssembly name of the function for a BPF function entry slot. */
export function functionName(entry: number): string {
  return `f${entry}`;
}

/** Whether control going from `block` to `to` goes back, closing a loop. */
function isBackEdge(block: BasicBlock, to: number | undefined): boolean {
  return to !== undefined && to <= block.start;
}

/** Lowers the functions of one program into a module: control flow, calls, the budget. */
export class Lowering extends InstructionLowering {
  /** Signature of every lowered function: (r1..r5 i64, fp i32, depth i32) -> r0 i64. */
  readonly params: WasmType;

  constructor(
    b: Binaryen,
    m: WasmModule,
    private readonly structure: ProgramStructure,
    /** Helper 181 is bpf_loop (Linux's), so its loop can run in WebAssembly. */
    private readonly inlineLoop = false,
    /** Helpers 1 and 2 are the runtime's map lookup and update, whose map pointers are descriptors (jit/map-ops.ts). */
    private readonly inlineMaps = false,
  ) {
    super(b, m);
    this.params = b.createType([b.i64, b.i64, b.i64, b.i64, b.i64, b.i32, b.i32]);
    this.hasCallbacks = structure.addressTaken.length > 0;
  }

  /**
   * Whether helpers may call back into the program: only functions whose address the program
   * takes can be callbacks, so without any the module has no callback entry and pays nothing.
   */
  readonly hasCallbacks: boolean;

  /** Adds the WebAssembly function for one BPF function. */
  lowerFunction(fn: BpfFunction): void {
    const { m, b } = this;
    // A function with loops keeps the budget in a local (the last one): V8 keeps globals in
    // memory, so spending from the global was a load and a store on every iteration. The global is
    // written back before every call and exit (callees, callbacks and the caller spend from it)
    // and read again after every call.
    const mayGoto = fn.blocks.some((bl) => bl.insns.some((i) => i.op === Op.MayGoto));
    const loops = fn.blocks.some((bl) => isBackEdge(bl, bl.target) || isBackEdge(bl, bl.next));
    this.budgetLocal = loops ? MAY_GOTO + (mayGoto ? 1 : 0) : undefined;
    const relooper = new b.Relooper(m);
    const refs = new Map<number, number>();
    for (const block of fn.blocks) refs.set(block.start, relooper.addBlock(this.blockBody(block)));
    let fellOff: number | undefined;
    const ref = (start: number): number => {
      if (start >= this.structure.slots) {
        fellOff ??= relooper.addBlock(this.trap(TrapCode.FellOffEnd, start, m.i32.const(0)));
        return fellOff;
      }
      return refs.get(start)!;
    };
    const edge = (block: BasicBlock, to: number): Expr => (isBackEdge(block, to) ? this.localBackEdge(block.insns.at(-1)!.pc) : 0);
    // A counted loop gets a second copy that spends the budget without testing it, run when the
    // budget left covers every back edge the loop can take: its preheader goes to a block that chooses.
    const choices = new Map<number, { header: number; choice: number }>();
    for (const loop of countedLoops(fn)) {
      const copies = new Map<number, number>();
      const inLoop = fn.blocks.filter((bl) => loop.blocks.has(bl.start));
      for (const block of inLoop) copies.set(block.start, relooper.addBlock(this.blockBody(block)));
      const copy = (start: number) => copies.get(start) ?? ref(start);
      for (const block of inLoop) this.addBranches(relooper, block, copy(block.start), copy, (to) => (to === loop.header ? this.spendBudget() : 0));
      const choice = relooper.addBlock(m.nop());
      const covered = m.i32.ge_u(m.local.get(this.budgetLocal!, this.i32), m.i32.const(loop.maxBackEdges));
      relooper.addBranch(choice, copy(loop.header), covered, 0);
      relooper.addBranch(choice, ref(loop.header), 0, 0);
      choices.set(loop.preheader, { header: loop.header, choice });
    }
    for (const block of fn.blocks) {
      const counted = choices.get(block.start);
      const to = (start: number) => (start === counted?.header ? counted.choice : ref(start));
      this.addBranches(relooper, block, refs.get(block.start)!, to, (start) => edge(block, start));
    }
    const blocks = m.block(null, [relooper.renderAndDispose(refs.get(fn.entry)!, LABEL), m.unreachable()]);
    const body = m.block(null, [
      m.local.set(REG[10]!, m.i64.extend_u(m.local.get(FP, this.i32))),
      // Each call of a function gets its own may_goto budget, as Linux's prologue gives it.
      ...(mayGoto ? [m.local.set(MAY_GOTO, m.i32.const(MAY_GOTO_LOOPS))] : []),
      ...(loops ? [
        this.loadBudget(),
        // The trap for a spent budget comes after the loops, not in them: V8 unrolls only loops without calls.
        m.block(BUDGET_SPENT, [blocks]),
        m.call(TRAP_IMPORT, [m.i32.const(TrapCode.Budget), m.local.get(ADDR, this.i32), m.i32.const(0)], b.none),
        m.unreachable(),
      ] : [blocks]),
    ]);
    const vars = [b.i64, b.i64, b.i64, b.i64, b.i64, b.i64, b.i64, b.i32, b.i32, b.i32, ...(mayGoto ? [b.i32] : []), ...(loops ? [b.i32] : [])];
    m.addFunction(functionName(fn.entry), this.params, b.i64, vars, body);
  }

  /** The Relooper branches out of `block` (lowered as `from`), to the blocks `to` gives, with the code `edge` gives. */
  private addBranches(relooper: Relooper, block: BasicBlock, from: number, to: (start: number) => number, edge: (start: number) => Expr): void {
    if (block.target !== undefined) {
      const last = block.insns[block.insns.length - 1]!;
      if (block.next !== undefined && block.next !== block.target) {
        relooper.addBranch(from, to(block.target), this.condition(last), edge(block.target));
        relooper.addBranch(from, to(block.next), 0, 0);
      } else {
        relooper.addBranch(from, to(block.target), 0, edge(block.target));
      }
    } else if (block.next !== undefined) {
      relooper.addBranch(from, to(block.next), 0, edge(block.next));
    }
  }

  /** The local holding the run's loop budget in the function being lowered, when it has loops. */
  private budgetLocal: number | undefined;

  // --- helpers -------------------------------------------------------------------------------

  /** Code on a back edge outside the function's own loops (bpf_loop's): spend one unit of the run's loop budget, in the global. */
  private backEdge(pc: number): Expr {
    const { m } = this;
    const budget = m.global.get(GLOBAL.budget, this.i32);
    return m.block(null, [
      m.if(m.i32.eqz(budget), this.trap(TrapCode.Budget, pc, m.i32.const(0))),
      m.global.set(GLOBAL.budget, m.i32.sub(m.global.get(GLOBAL.budget, this.i32), m.i32.const(1))),
    ]);
  }

  /** Code on a back edge of the function's own loops: spend one unit of the budget held in its local. */
  private localBackEdge(pc: number): Expr {
    const { m } = this;
    const local = this.budgetLocal!;
    const budget = () => m.local.get(local, this.i32);
    return m.block(null, [
      m.if(m.i32.eqz(budget()), m.block(null, [m.local.set(ADDR, m.i32.const(pc)), m.br(BUDGET_SPENT)])),
      m.local.set(local, m.i32.sub(budget(), m.i32.const(1))),
    ]);
  }

  /** Code on the back edge of a counted loop's unchecked copy: the budget covers it. */
  private spendBudget(): Expr {
    const local = this.budgetLocal!;
    return this.m.local.set(local, this.m.i32.sub(this.m.local.get(local, this.i32), this.m.i32.const(1)));
  }

  private loadBudget(): Expr {
    return this.m.local.set(this.budgetLocal!, this.m.global.get(GLOBAL.budget, this.i32));
  }

  private storeBudget(): Expr {
    return this.m.global.set(GLOBAL.budget, this.m.local.get(this.budgetLocal!, this.i32));
  }

  /**
   * Spills r1..r5 to the register file and calls a helper import; r0 comes back from it. In
   * programs with callbacks, the caller's frame pointer and depth go to globals for the helper.
   */
  private helperCall(name: string, operands: Expr[]): Expr {
    const { m } = this;
    const regs = () => m.global.get(GLOBAL.regs, this.i32);
    const spills = [1, 2, 3, 4, 5].map((r) => m.i64.store(r * 8, 8, regs(), this.get(r)));
    const frame = this.hasCallbacks
      ? [m.global.set(GLOBAL.callerFp, m.local.get(FP, this.i32)), m.global.set(GLOBAL.callerDepth, m.local.get(DEPTH, this.i32))]
      : [];
    return m.block(null, [
      ...spills,
      ...frame,
      m.call(name, operands, this.b.none),
      this.set(0, m.i64.load(0, 8, regs())),
    ]);
  }

  /**
   * bpf_loop(nr_loops, callback_fn, callback_ctx, flags) run in WebAssembly, as Linux's verifier
   * inlines it: each callback is a call through the function table, without a trip through the
   * host. What the helper checks first (flags 0, at most BPF_MAX_LOOPS) gives its errno here too; a
   * callback argument that is not an address-taken function goes to the helper, which reports it.
   * r1..r5 are free (a helper call clobbers them): r1 counts, r3 keeps the context, r5 the bound.
   */
  private loopCall(pc: number): Expr {
    const { m } = this;
    const i64 = this.i64;
    const fn = () => this.get(2);
    const label = `bpf_loop_${pc}`;
    const frame = [m.i32.sub(m.local.get(FP, this.i32), m.i32.const(FRAME_BYTES)), m.i32.add(m.local.get(DEPTH, this.i32), m.i32.const(1))];
    const zero = () => this.c64(0, 0);
    const loopDepth = (delta: number) => m.global.set(GLOBAL.loopDepth, m.i32.add(m.global.get(GLOBAL.loopDepth, this.i32), m.i32.const(delta)));
    const loop = m.block(null, [
      // Callbacks may not tail-call: the host sees that one is running by this count.
      loopDepth(1),
      // The helper takes nr_loops as a u32.
      this.set(5, m.i64.and(this.get(1), this.c64(-1, 0))),
      this.set(1, zero()),
      m.if(m.i32.ge_u(m.i32.add(m.local.get(DEPTH, this.i32), m.i32.const(1)), m.i32.const(MAX_FRAMES)), this.trap(TrapCode.CallDepth, pc, m.i32.const(0))),
      m.loop(label, m.if(m.i64.lt_u(this.get(1), this.get(5)), m.block(null, [
        // Each callback spends one unit of the loop budget, as a loop iteration does.
        this.backEdge(pc),
        this.set(0, m.call_indirect(TABLE, m.local.get(ADDR, this.i32), [this.get(1), this.get(3), zero(), zero(), zero(), ...frame], this.params, i64)),
        this.set(1, m.i64.add(this.get(1), this.c64(1, 0))),
        m.br(label, m.i64.eqz(this.get(0))),
      ]))),
      this.set(0, this.get(1)),
      loopDepth(-1),
    ]);
    return m.if(m.i64.ne(this.get(4), zero()), this.set(0, this.c64(-Errno.EINVAL, -1)),
      m.if(m.i64.gt_u(m.i64.and(this.get(1), this.c64(-1, 0)), this.c64(BPF_MAX_LOOPS, 0)), this.set(0, this.c64(-Errno.E2BIG, -1)),
        m.block(null, [
          m.local.set(ADDR, m.i32.eq(m.i32.wrap(m.i64.shr_u(fn(), this.c64(32, 0))), m.i32.const(FUNCTION_POINTER_TAG))),
          m.if(m.local.get(ADDR, this.i32), m.local.set(ADDR, this.tableIndex(() => m.i32.wrap(fn()))), m.local.set(ADDR, m.i32.const(-1))),
          m.if(m.i32.lt_s(m.local.get(ADDR, this.i32), m.i32.const(0)), this.helperCall(helperImportName(BPF_LOOP), [m.i32.const(pc)]), loop),
        ])));
  }

  /**
   * bpf_map_lookup_elem or bpf_map_update_elem through the module's own map functions, which
   * answer FALLBACK when the helper must do the operation (jit/map-ops.ts). Map pointers and the
   * other pointer arguments are guest addresses, so their low halves are all the functions need.
   */
  private mapCall(insn: Instruction): Expr {
    const { m } = this;
    const op = insn.imm === BPF_MAP_LOOKUP
      ? m.call(MAP_OPS.lookup, [this.get32(1), this.get32(2)], this.i64)
      : m.call(MAP_OPS.update, [this.get32(1), this.get32(2), this.get32(3), this.get(4)], this.i64);
    return m.block(null, [
      m.local.set(T0, op),
      m.if(m.i64.eq(m.local.get(T0, this.i64), m.i64.const(FALLBACK)),
        this.helperCall(helperImportName(insn.imm), [m.i32.const(insn.pc)]),
        this.set(0, m.local.get(T0, this.i64))),
    ]);
  }

  /**
   * bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags) walked in WebAssembly for arrays
   * and the hash kinds (addForEach), each callback a call through the function table. What the
   * helper refuses or reports (flags, other kinds, a callback that is no function) goes to it.
   */
  private forEachCall(pc: number): Expr {
    const { m } = this;
    const fn = () => this.get(2);
    const ops = () => m.i32.load(Descriptor.Ops, 4, this.get32(1));
    return m.block(null, [
      m.local.set(ADDR, m.i32.const(-1)),
      m.if(m.i32.eq(m.i32.wrap(m.i64.shr_u(fn(), this.c64(32, 0))), m.i32.const(FUNCTION_POINTER_TAG)), m.local.set(ADDR, this.tableIndex(() => m.i32.wrap(fn())))),
      m.if(m.i32.or(
        m.i32.or(m.i32.lt_s(m.local.get(ADDR, this.i32), m.i32.const(0)), m.i64.ne(this.get(4), this.c64(0, 0))),
        m.i32.and(m.i32.ne(ops(), m.i32.const(DescriptorOps.Array)), m.i32.ne(ops(), m.i32.const(DescriptorOps.Hash))),
      ),
      this.helperCall(helperImportName(BPF_FOR_EACH_MAP_ELEM), [m.i32.const(pc)]),
      this.set(0, m.call(FOR_EACH_FUNCTION, [this.get(1), m.local.get(ADDR, this.i32), this.get(3), m.local.get(FP, this.i32), m.local.get(DEPTH, this.i32), m.i32.const(pc)], this.i64))),
    ]);
  }

  /** Table index of the address-taken function whose entry slot `slot()` is, or -1. */
  private tableIndex(slot: () => Expr): Expr {
    const { m } = this;
    let index: Expr = m.i32.const(-1);
    this.structure.addressTaken.forEach((entry, i) => {
      index = m.select(m.i32.eq(slot(), m.i32.const(entry)), m.i32.const(i), index);
    });
    return index;
  }

  /** Adds `map_for_each` (jit/table-calls.ts), for forEachCall. */
  addForEach(): void {
    addForEach(this.b, this.m, this.params);
  }

  /** Adds the `callback` export (jit/table-calls.ts), through which helpers run address-taken functions. */
  addCallbackEntry(): void {
    addCallbackEntry(this.b, this.m, this.params, (slot) => this.tableIndex(slot));
  }

  /** A bpf-to-bpf call, direct or through the function table; the callee gets the next frame down. */
  private localCall(pc: number, call: (operands: Expr[]) => Expr): Expr {
    const { m } = this;
    const depth = () => m.local.get(DEPTH, this.i32);
    const operands = [1, 2, 3, 4, 5].map((r) => this.get(r));
    operands.push(m.i32.sub(m.local.get(FP, this.i32), m.i32.const(FRAME_BYTES)), m.i32.add(depth(), m.i32.const(1)));
    return m.block(null, [
      m.if(m.i32.ge_u(m.i32.add(depth(), m.i32.const(1)), m.i32.const(MAX_FRAMES)), this.trap(TrapCode.CallDepth, pc, m.i32.const(0))),
      this.set(0, call(operands)),
    ]);
  }

  // --- blocks and conditions ----------------------------------------------------------------------

  private blockBody(block: BasicBlock): Expr {
    const stmts: Expr[] = [];
    const insns = block.insns;
    for (let i = 0; i < insns.length; i++) {
      const insn = insns[i]!;
      const form = specOf(insn.op).form;
      if (form === 'ja' || form === 'ja32' || form === 'jcc' || form === 'maygoto') continue; // the Relooper's branches
      const extension = this.extension32(insn, insns[i + 1]);
      if (extension !== undefined) {
        stmts.push(extension);
        i++;
      } else if (this.budgetLocal === undefined) {
        stmts.push(this.lower(insn));
      } else if (form === 'exit') {
        stmts.push(this.storeBudget(), this.lower(insn));
      } else if (form === 'call' || form === 'calllocal' || form === 'callx') {
        stmts.push(this.storeBudget(), this.lower(insn), this.loadBudget());
      } else {
        stmts.push(this.lower(insn));
      }
    }
    return this.m.block(null, stmts);
  }

  /** The taken-condition of a conditional jump, as an i32. */
  private condition(insn: Instruction): Expr {
    const { m } = this;
    const row = specOf(insn.op);
    if (insn.op === Op.MayGoto) {
      // Taken once the budget is spent; otherwise spend one and fall through (the interpreter's rule).
      const left = m.local.get(MAY_GOTO, this.i32);
      return m.if(m.i32.eqz(left), m.i32.const(1),
        m.block(null, [m.local.set(MAY_GOTO, m.i32.sub(m.local.get(MAY_GOTO, this.i32), m.i32.const(1))), m.i32.const(0)], this.i32));
    }
    if (row.is32) {
      const a = this.get32(insn.dst);
      const b = this.source32(insn);
      switch (insn.op) {
        case Op.Jeq32K: case Op.Jeq32X: return m.i32.eq(a, b);
        case Op.Jne32K: case Op.Jne32X: return m.i32.ne(a, b);
        case Op.Jgt32K: case Op.Jgt32X: return m.i32.gt_u(a, b);
        case Op.Jge32K: case Op.Jge32X: return m.i32.ge_u(a, b);
        case Op.Jlt32K: case Op.Jlt32X: return m.i32.lt_u(a, b);
        case Op.Jle32K: case Op.Jle32X: return m.i32.le_u(a, b);
        case Op.Jsgt32K: case Op.Jsgt32X: return m.i32.gt_s(a, b);
        case Op.Jsge32K: case Op.Jsge32X: return m.i32.ge_s(a, b);
        case Op.Jslt32K: case Op.Jslt32X: return m.i32.lt_s(a, b);
        case Op.Jsle32K: case Op.Jsle32X: return m.i32.le_s(a, b);
        case Op.Jset32K: case Op.Jset32X: return m.i32.ne(m.i32.and(a, b), m.i32.const(0));
      }
    }
    const a = this.get(insn.dst);
    const b = this.source64(insn);
    switch (insn.op) {
      case Op.Jeq64K: case Op.Jeq64X: return m.i64.eq(a, b);
      case Op.Jne64K: case Op.Jne64X: return m.i64.ne(a, b);
      case Op.Jgt64K: case Op.Jgt64X: return m.i64.gt_u(a, b);
      case Op.Jge64K: case Op.Jge64X: return m.i64.ge_u(a, b);
      case Op.Jlt64K: case Op.Jlt64X: return m.i64.lt_u(a, b);
      case Op.Jle64K: case Op.Jle64X: return m.i64.le_u(a, b);
      case Op.Jsgt64K: case Op.Jsgt64X: return m.i64.gt_s(a, b);
      case Op.Jsge64K: case Op.Jsge64X: return m.i64.ge_s(a, b);
      case Op.Jslt64K: case Op.Jslt64X: return m.i64.lt_s(a, b);
      case Op.Jsle64K: case Op.Jsle64X: return m.i64.le_s(a, b);
      case Op.Jset64K: case Op.Jset64X: return m.i64.ne(m.i64.and(a, b), this.c64(0, 0));
    }
    throw new Error(`pc ${insn.pc}: ${row.mnemonic} is not a conditional jump`);
  }

  // --- instructions ------------------------------------------------------------------------------

  private lower(insn: Instruction): Expr {
    const row = specOf(insn.op);
    if (frameViolation(insn)) return this.trap(TrapCode.OutsideFrame, insn.pc, this.address(FRAME_POINTER_REGISTER, insn.off));
    switch (row.form) {
      case 'alu': return row.is32 ? this.alu32(insn) : this.alu64(insn);
      case 'unary': return this.unary(insn);
      case 'ldx': case 'st': case 'stx': return this.memory(insn);
      case 'atomic': return this.atomic(insn);
      case 'lddw': return this.lddw(insn);
      case 'ldabs': case 'ldind': return this.packetLoad(insn);
      case 'exit': return this.m.return(this.get(0));
      case 'call':
        if (insn.imm === BPF_LOOP && this.inlineLoop && this.hasCallbacks) return this.loopCall(insn.pc);
        if ((insn.imm === BPF_MAP_LOOKUP || insn.imm === BPF_MAP_UPDATE) && this.inlineMaps) return this.mapCall(insn);
        if (insn.imm === BPF_FOR_EACH_MAP_ELEM && this.inlineMaps && this.hasCallbacks) return this.forEachCall(insn.pc);
        return this.helperCall(helperImportName(insn.imm), [this.m.i32.const(insn.pc)]);
      case 'calllocal': return this.localCall(insn.pc, (ops) => this.m.call(functionName(branchTarget(insn)!), ops, this.i64));
      case 'callbtf': return this.trap(TrapCode.CallBtf, insn.pc, this.m.i32.const(insn.imm));
      case 'callx': return this.callx(insn);
      default: throw new Error(`pc ${insn.pc}: ${row.mnemonic} is not lowered as a statement`);
    }
  }

  private callx(insn: Instruction): Expr {
    const { m } = this;
    const target = () => m.local.get(T0, this.i64);
    const high = () => m.i32.wrap(m.i64.shr_u(target(), this.c64(32, 0)));
    const low = () => m.i32.wrap(target());
    const viaTable = m.block(null, [
      m.local.set(ADDR, this.tableIndex(low)),
      m.if(m.i32.lt_s(m.local.get(ADDR, this.i32), m.i32.const(0)), this.trap(TrapCode.CallxTarget, insn.pc, low())),
      this.localCall(insn.pc, (ops) => m.call_indirect(TABLE, m.local.get(ADDR, this.i32), ops, this.params, this.i64)),
    ]);
    return m.block(null, [
      m.local.set(T0, this.get(insn.dst)),
      m.if(m.i32.eq(high(), m.i32.const(FUNCTION_POINTER_TAG)),
        viaTable,
        m.if(m.i32.eqz(high()),
          this.helperCall(CALLX_HELPER_IMPORT, [low(), m.i32.const(insn.pc)]),
          this.trap(TrapCode.CallxTarget, insn.pc, low()))),
    ]);
  }

  private packetLoad(insn: Instruction): Expr {
    // Interpreter: a = legacyLoadAddress(packet, offset, size); a < 0 ends the program with r0 = 0; else r0 = ntoh(load(a)).
    const { m } = this;
    const row = specOf(insn.op);
    const size = row.size!;
    const i32 = this.i32;
    const offset = () => m.local.get(ADDR, i32);
    const global = (name: string) => m.global.get(name, i32);
    // ADDR holds the offset, then the address computed from it.
    const at = () => m.local.get(ADDR, i32);
    const value = size === 4 ? this.zext(this.bswap32(m.i32.load(0, 1, at())))
      : size === 2 ? this.zext(this.bswap16(m.i32.load16_u(0, 1, at())))
      : m.i64.load8_u(0, 1, at());
    const start = row.form === 'ldind' ? m.i32.add(this.get32(insn.src), m.i32.const(insn.imm)) : m.i32.const(insn.imm);
    // The address from the offset's base: skb->data, the network header or the MAC header (0 when absent: the load fails).
    const fromHeader = (header: string, base: number) => m.if(m.i32.eqz(global(header)), m.i32.const(0), m.i32.add(global(header), m.i32.sub(offset(), m.i32.const(base))));
    const address = m.if(m.i32.ge_s(offset(), m.i32.const(0)), m.i32.add(global(GLOBAL.packet), offset()),
      m.if(m.i32.ge_s(offset(), m.i32.const(SKF_NET_OFF)), fromHeader(GLOBAL.networkHeader, SKF_NET_OFF),
        m.if(m.i32.ge_s(offset(), m.i32.const(SKF_LL_OFF)), fromHeader(GLOBAL.macHeader, SKF_LL_OFF), m.i32.const(0))));
    // Out of the packet (or no base): the program ends at once with r0 = 0.
    const end = m.i64.add(m.i64.extend_u(global(GLOBAL.packet)), m.i64.extend_u(global(GLOBAL.packetLength)));
    const outside = m.i32.or(
      m.i32.eqz(at()),
      m.i64.gt_u(m.i64.add(m.i64.extend_u(at()), this.c64(size, 0)), end),
    );
    return m.block(null, [
      m.local.set(ADDR, start),
      m.local.set(ADDR, address),
      m.if(outside, m.block(null, [
        m.i64.store(0, 8, m.global.get(GLOBAL.regs, i32), this.c64(0, 0)),
        this.trap(TrapCode.ProgramExit, insn.pc, m.i32.const(0)),
      ])),
      this.set(0, value),
    ]);
  }
}
