// Lowers BPF functions to WebAssembly functions (through the binaryen wrapper; this file never
// imports binaryen). Registers are i64 locals; basic blocks are structured by binaryen's Relooper.
// Each lowering keeps the interpreter's semantics, noted where WebAssembly differs: division by
// zero and INT_MIN / -1 (WebAssembly traps, BPF does not), byte swaps (no wasm instruction).
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

// Locals of every lowered function. Params: r1..r5, the frame pointer (i32) and the call depth.
const FP = 5;
const DEPTH = 6;
const T0 = 13; // i64 scratch
const ADDR = 14; // i32 scratch: addresses, divisors, table indexes, the pc of a back edge out of budget
const LABEL = 15; // the Relooper's label helper
const T32 = 16; // i32 scratch
const MAY_GOTO = 17; // i32: what is left of this call's may_goto budget (functions with may_goto only)
const FRAME_POINTER_REGISTER = 10;
/** Linux's id of bpf_loop, which the lowering may run in WebAssembly (see loopCall). */
const BPF_LOOP = 181;
/** Linux's ids of bpf_map_lookup_elem and bpf_map_update_elem, which may run in WebAssembly (see mapCall). */
const BPF_MAP_LOOKUP = 1;
const BPF_MAP_UPDATE = 2;
/** Linux's id of bpf_for_each_map_elem, whose walk may run in WebAssembly (see forEachCall). */
const BPF_FOR_EACH_MAP_ELEM = 164;

/** Local index of each BPF register r0..r10. */
const REG = [7, 0, 1, 2, 3, 4, 8, 9, 10, 11, 12];
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

/** Lowers the functions of one program into a module. */
export class Lowering {
  private readonly i64: WasmType;
  private readonly i32: WasmType;
  /** Signature of every lowered function: (r1..r5 i64, fp i32, depth i32) -> r0 i64. */
  readonly params: WasmType;

  constructor(
    private readonly b: Binaryen,
    private readonly m: WasmModule,
    private readonly structure: ProgramStructure,
    /** Helper 181 is bpf_loop (Linux's), so its loop can run in WebAssembly. */
    private readonly inlineLoop = false,
    /** Helpers 1 and 2 are the runtime's map lookup and update, whose map pointers are descriptors (jit/map-ops.ts). */
    private readonly inlineMaps = false,
  ) {
    this.i64 = b.i64;
    this.i32 = b.i32;
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

  private get(r: number): Expr {
    return this.m.local.get(REG[r]!, this.i64);
  }

  private set(r: number, value: Expr): Expr {
    return this.m.local.set(REG[r]!, value);
  }

  private get32(r: number): Expr {
    return this.m.i32.wrap(this.get(r));
  }

  /** A 64-bit constant from its signed 32-bit halves. */
  private c64(lo: number, hi: number): Expr {
    return this.m.i64.const(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)));
  }

  /** The immediate sign-extended to 64 bits, as BPF's 64-bit K operands are. */
  private k64(imm: number): Expr {
    return this.c64(imm, imm >> 31);
  }

  private source64(insn: Instruction): Expr {
    return (insn.opcode & 0x08) !== 0 ? this.get(insn.src) : this.k64(insn.imm);
  }

  private source32(insn: Instruction): Expr {
    return (insn.opcode & 0x08) !== 0 ? this.get32(insn.src) : this.m.i32.const(insn.imm);
  }

  private zext(value32: Expr): Expr {
    return this.m.i64.extend_u(value32);
  }

  /** reg + off, as a 32-bit guest address (guest pointers are zero-extended 32-bit offsets). */
  private address(reg: number, off: number): Expr {
    return this.m.i32.add(this.get32(reg), this.m.i32.const(off));
  }

  private trap(code: TrapCode, pc: number, value: Expr): Expr {
    return this.m.block(null, [this.m.call(TRAP_IMPORT, [this.m.i32.const(code), this.m.i32.const(pc), value], this.b.none), this.m.unreachable()]);
  }

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

  private bswap16(x: Expr): Expr {
    const { m } = this;
    // (x & 0xff) << 8 | (x >> 8) & 0xff, on a value used once: take it through a scratch local.
    return m.block(null, [
      m.local.set(T32, x),
      m.i32.or(
        m.i32.shl(m.i32.and(m.local.get(T32, this.i32), m.i32.const(0xff)), m.i32.const(8)),
        m.i32.and(m.i32.shr_u(m.local.get(T32, this.i32), m.i32.const(8)), m.i32.const(0xff)),
      ),
    ], this.i32);
  }

  private bswap32(x: Expr): Expr {
    const { m } = this;
    // rotl(x, 8) keeps bytes 0 and 2 in place of 1 and 3; rotr(x, 8) the others.
    return m.block(null, [
      m.local.set(T32, x),
      m.i32.or(
        m.i32.and(m.i32.rotl(m.local.get(T32, this.i32), m.i32.const(8)), m.i32.const(0x00ff00ff)),
        m.i32.and(m.i32.rotr(m.local.get(T32, this.i32), m.i32.const(8)), m.i32.const(0xff00ff00 | 0)),
      ),
    ], this.i32);
  }

  private bswap64(r: number): Expr {
    const { m } = this;
    return m.block(null, [
      m.local.set(T0, this.get(r)),
      this.set(r, m.i64.or(
        m.i64.shl(this.zext(this.bswap32(m.i32.wrap(m.local.get(T0, this.i64)))), this.c64(32, 0)),
        this.zext(this.bswap32(m.i32.wrap(m.i64.shr_u(m.local.get(T0, this.i64), this.c64(32, 0))))),
      )),
    ]);
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

  /**
   * `dst <<= 32` then `dst >>= 32` (or `dst s>>= 32`) in one block, clang's way of zero- (sign-)
   * extending a register's low half, as one extension: V8 would shift twice.
   */
  private extension32(insn: Instruction, next: Instruction | undefined): Expr | undefined {
    if (insn.op !== Op.Lsh64K || insn.imm !== 32 || next?.dst !== insn.dst || next.imm !== 32) return undefined;
    if (next.op === Op.Rsh64K) return this.set(insn.dst, this.zext(this.get32(insn.dst)));
    if (next.op === Op.Arsh64K) return this.set(insn.dst, this.m.i64.extend32_s(this.get(insn.dst)));
    return undefined;
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

  private alu64(insn: Instruction): Expr {
    const { m } = this;
    const d = insn.dst;
    const a = () => this.get(d);
    const x = (insn.opcode & 0x08) !== 0;
    const k = insn.imm;
    const set = (v: Expr) => this.set(d, v);
    // A register divisor goes through T0 so it is read once, and the code tests it; a constant
    // divisor is tested here, leaving only the operation that applies.
    const divisor = () => (x ? m.local.get(T0, this.i64) : this.k64(k));
    const division = (ifZero: () => Expr, divide: () => Expr, ifMinusOne?: () => Expr): Expr => {
      if (!x) return set(k === 0 ? ifZero() : k === -1 && ifMinusOne ? ifMinusOne() : divide());
      const nonZero = ifMinusOne ? m.if(m.i64.eq(divisor(), this.c64(-1, -1)), ifMinusOne(), divide()) : divide();
      return m.block(null, [m.local.set(T0, this.get(insn.src)), set(m.if(m.i64.eqz(divisor()), ifZero(), nonZero))]);
    };
    switch (insn.op) {
      case Op.Add64K: case Op.Add64X: return set(m.i64.add(a(), this.source64(insn)));
      case Op.Sub64K: case Op.Sub64X: return set(m.i64.sub(a(), this.source64(insn)));
      case Op.Mul64K: case Op.Mul64X: return set(m.i64.mul(a(), this.source64(insn)));
      case Op.Or64K: case Op.Or64X: return set(m.i64.or(a(), this.source64(insn)));
      case Op.And64K: case Op.And64X: return set(m.i64.and(a(), this.source64(insn)));
      case Op.Xor64K: case Op.Xor64X: return set(m.i64.xor(a(), this.source64(insn)));
      // Shift counts are masked to 6 bits by both BPF and WebAssembly.
      case Op.Lsh64K: case Op.Lsh64X: return set(m.i64.shl(a(), this.source64(insn)));
      case Op.Rsh64K: case Op.Rsh64X: return set(m.i64.shr_u(a(), this.source64(insn)));
      case Op.Arsh64K: case Op.Arsh64X: return set(m.i64.shr_s(a(), this.source64(insn)));
      case Op.Mov64K: case Op.Mov64X: return set(this.source64(insn));
      case Op.Movsx64_8: return set(m.i64.extend8_s(this.get(insn.src)));
      case Op.Movsx64_16: return set(m.i64.extend16_s(this.get(insn.src)));
      case Op.Movsx64_32: return set(m.i64.extend32_s(this.get(insn.src)));
      case Op.Neg64: return set(m.i64.sub(this.c64(0, 0), a()));
      // dst / 0 = 0.
      case Op.Div64K: case Op.Div64X: return division(() => this.c64(0, 0), () => m.i64.div_u(a(), divisor()));
      // dst % 0 = dst.
      case Op.Mod64K: case Op.Mod64X: return division(a, () => m.i64.rem_u(a(), divisor()));
      // Signed: / 0 = 0, and / -1 is a negation (INT64_MIN / -1 = INT64_MIN; wasm would trap).
      case Op.Sdiv64K: case Op.Sdiv64X:
        return division(() => this.c64(0, 0), () => m.i64.div_s(a(), divisor()), () => m.i64.sub(this.c64(0, 0), a()));
      // Signed % 0 = dst; wasm's rem_s already gives INT64_MIN % -1 = 0.
      case Op.Smod64K: case Op.Smod64X: return division(a, () => m.i64.rem_s(a(), divisor()));
    }
    throw new Error(`pc ${insn.pc}: no 64-bit ALU lowering for ${specOf(insn.op).mnemonic}`);
  }

  private alu32(insn: Instruction): Expr {
    const { m } = this;
    const a = () => this.get32(insn.dst);
    const x = (insn.opcode & 0x08) !== 0;
    // 32-bit results are zero-extended into the 64-bit register.
    const set = (v32: Expr) => this.set(insn.dst, this.zext(v32));
    // As in alu64, with T32 holding a register divisor.
    const k = insn.imm;
    const divisor = () => (x ? m.local.get(T32, this.i32) : m.i32.const(k));
    const division = (ifZero: () => Expr, divide: () => Expr, ifMinusOne?: () => Expr): Expr => {
      if (!x) return set(k === 0 ? ifZero() : k === -1 && ifMinusOne ? ifMinusOne() : divide());
      const nonZero = ifMinusOne ? m.if(m.i32.eq(divisor(), m.i32.const(-1)), ifMinusOne(), divide()) : divide();
      return m.block(null, [m.local.set(T32, this.get32(insn.src)), set(m.if(m.i32.eqz(divisor()), ifZero(), nonZero))]);
    };
    switch (insn.op) {
      case Op.Add32K: case Op.Add32X: return set(m.i32.add(a(), this.source32(insn)));
      case Op.Sub32K: case Op.Sub32X: return set(m.i32.sub(a(), this.source32(insn)));
      case Op.Mul32K: case Op.Mul32X: return set(m.i32.mul(a(), this.source32(insn)));
      case Op.Or32K: case Op.Or32X: return set(m.i32.or(a(), this.source32(insn)));
      case Op.And32K: case Op.And32X: return set(m.i32.and(a(), this.source32(insn)));
      case Op.Xor32K: case Op.Xor32X: return set(m.i32.xor(a(), this.source32(insn)));
      case Op.Lsh32K: case Op.Lsh32X: return set(m.i32.shl(a(), this.source32(insn)));
      case Op.Rsh32K: case Op.Rsh32X: return set(m.i32.shr_u(a(), this.source32(insn)));
      case Op.Arsh32K: case Op.Arsh32X: return set(m.i32.shr_s(a(), this.source32(insn)));
      case Op.Mov32K: case Op.Mov32X: return set(this.source32(insn));
      case Op.Movsx32_8: return set(m.i32.extend8_s(this.get32(insn.src)));
      case Op.Movsx32_16: return set(m.i32.extend16_s(this.get32(insn.src)));
      case Op.Neg32: return set(m.i32.sub(m.i32.const(0), a()));
      case Op.Div32K: case Op.Div32X: return division(() => m.i32.const(0), () => m.i32.div_u(a(), divisor()));
      // % 0 keeps the low half of dst, zero-extended.
      case Op.Mod32K: case Op.Mod32X: return division(a, () => m.i32.rem_u(a(), divisor()));
      case Op.Sdiv32K: case Op.Sdiv32X:
        return division(() => m.i32.const(0), () => m.i32.div_s(a(), divisor()), () => m.i32.sub(m.i32.const(0), a()));
      case Op.Smod32K: case Op.Smod32X: return division(a, () => m.i32.rem_s(a(), divisor()));
    }
    throw new Error(`pc ${insn.pc}: no 32-bit ALU lowering for ${specOf(insn.op).mnemonic}`);
  }

  private unary(insn: Instruction): Expr {
    const { m } = this;
    const d = insn.dst;
    switch (insn.op) {
      case Op.Neg64: return this.alu64(insn);
      case Op.Neg32: return this.alu32(insn);
      // To little-endian on a little-endian machine: truncate and zero-extend.
      case Op.Le16: return this.set(d, m.i64.and(this.get(d), this.c64(0xffff, 0)));
      case Op.Le32: return this.set(d, this.zext(this.get32(d)));
      case Op.Le64: return m.nop();
      case Op.Be16: case Op.Bswap16: return this.set(d, this.zext(this.bswap16(this.get32(d))));
      case Op.Be32: case Op.Bswap32: return this.set(d, this.zext(this.bswap32(this.get32(d))));
      case Op.Be64: case Op.Bswap64: return this.bswap64(d);
    }
    throw new Error(`pc ${insn.pc}: no lowering for ${specOf(insn.op).mnemonic}`);
  }

  private memory(insn: Instruction): Expr {
    const { m } = this;
    // A non-negative offset goes in the access's offset immediate. Past 4 GiB WebAssembly traps,
    // where the interpreter reports the address outside guest memory.
    const base = (reg: number) => (insn.off >= 0 ? this.get32(reg) : this.address(reg, insn.off));
    const offset = Math.max(insn.off, 0);
    const from = () => base(insn.src);
    const to = () => base(insn.dst);
    const value = () => ((insn.opcode & 0x07) === 0x03 ? this.get(insn.src) : this.k64(insn.imm));
    // Unaligned accesses are allowed (alignment hint 1), as in BPF.
    switch (insn.op) {
      case Op.Ldxb: return this.set(insn.dst, m.i64.load8_u(offset, 1, from()));
      case Op.Ldxh: return this.set(insn.dst, m.i64.load16_u(offset, 1, from()));
      case Op.Ldxw: return this.set(insn.dst, m.i64.load32_u(offset, 1, from()));
      case Op.Ldxdw: return this.set(insn.dst, m.i64.load(offset, 1, from()));
      case Op.Ldxsb: return this.set(insn.dst, m.i64.load8_s(offset, 1, from()));
      case Op.Ldxsh: return this.set(insn.dst, m.i64.load16_s(offset, 1, from()));
      case Op.Ldxsw: return this.set(insn.dst, m.i64.load32_s(offset, 1, from()));
      case Op.Stb: case Op.Stxb: return m.i64.store8(offset, 1, to(), value());
      case Op.Sth: case Op.Stxh: return m.i64.store16(offset, 1, to(), value());
      case Op.Stw: case Op.Stxw: return m.i64.store32(offset, 1, to(), value());
      case Op.Stdw: case Op.Stxdw: return m.i64.store(offset, 1, to(), value());
    }
    throw new Error(`pc ${insn.pc}: no memory lowering for ${specOf(insn.op).mnemonic}`);
  }

  private atomic(insn: Instruction): Expr {
    const { m } = this;
    const row = specOf(insn.op);
    const size = row.size!;
    const wide = size === 8;
    const addr = () => m.local.get(ADDR, this.i32);
    const old = () => m.local.get(T0, this.i64);
    const src = () => this.get(insn.src);
    // The old value, zero-extended for the 32-bit forms.
    const load = wide ? m.i64.load(0, 8, addr()) : m.i64.load32_u(0, 4, addr());
    const store = (v: Expr) => (wide ? m.i64.store(0, 8, addr(), v) : m.i64.store32(0, 4, addr(), v));
    const fetch = (insn.imm & 1) !== 0;
    let update: Expr;
    switch (insn.op) {
      case Op.AtomicAdd32: case Op.AtomicFetchAdd32: case Op.AtomicAdd64: case Op.AtomicFetchAdd64: update = store(m.i64.add(old(), src())); break;
      case Op.AtomicOr32: case Op.AtomicFetchOr32: case Op.AtomicOr64: case Op.AtomicFetchOr64: update = store(m.i64.or(old(), src())); break;
      case Op.AtomicAnd32: case Op.AtomicFetchAnd32: case Op.AtomicAnd64: case Op.AtomicFetchAnd64: update = store(m.i64.and(old(), src())); break;
      case Op.AtomicXor32: case Op.AtomicFetchXor32: case Op.AtomicXor64: case Op.AtomicFetchXor64: update = store(m.i64.xor(old(), src())); break;
      case Op.AtomicXchg32: case Op.AtomicXchg64: update = store(src()); break;
      // cmpxchg compares with r0 (its low half for the 32-bit form) and always loads the old value into r0.
      case Op.AtomicCmpxchg64:
        update = m.block(null, [m.if(m.i64.eq(old(), this.get(0)), store(src())), this.set(0, old())]);
        break;
      case Op.AtomicCmpxchg32:
        update = m.block(null, [m.if(m.i32.eq(m.i32.wrap(old()), this.get32(0)), store(src())), this.set(0, old())]);
        break;
      default:
        throw new Error(`pc ${insn.pc}: no atomic lowering for ${row.mnemonic}`);
    }
    const isCmpxchg = insn.op === Op.AtomicCmpxchg32 || insn.op === Op.AtomicCmpxchg64;
    return m.block(null, [
      m.local.set(ADDR, this.address(insn.dst, insn.off)),
      // Atomics must be naturally aligned, as in Linux.
      m.if(m.i32.and(addr(), m.i32.const(size - 1)), this.trap(TrapCode.MisalignedAtomic, insn.pc, addr())),
      m.local.set(T0, load),
      update,
      ...(fetch && !isCmpxchg ? [this.set(insn.src, old())] : []),
    ]);
  }

  private lddw(insn: Instruction): Expr {
    const { m } = this;
    switch (insn.op) {
      case Op.Lddw: return this.set(insn.dst, this.c64(insn.imm, insn.immHi!));
      // A function pointer: the tag in the high half, the function's first slot in the low half.
      case Op.LddwFunc: return this.set(insn.dst, this.c64(branchTarget(insn)!, FUNCTION_POINTER_TAG));
      default: return this.trap(TrapCode.UnresolvedLddw, insn.pc, m.i32.const(insn.src));
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
