// Why a program was rejected, told better than Linux does: the category, Linux's own message, the
// pc with its source line and both disassembly styles, the registers and stack at that point, the
// causal path (only the instructions the failing check depended on, PREVAIL-style slicing), and a
// plain-English suggestion of what to change in the C code.
import { BpfError } from '../isa/errors.js';
import type { Instruction } from '../isa/instruction.js';
import { formatInstruction } from '../isa/disassembler.js';
import { formatObjdump } from '../isa/objdump.js';
import { specOf } from '../isa/opcodes.js';
import type { SourceLine } from './env.js';
import type { RejectKind } from './reject.js';
import { formatReg, RegType } from './registers.js';
import { formatStack } from './stack.js';
import type { PathNode, State } from './state.js';

/** One entry of the catalogue: the category heading and what to do about it. */
interface CatalogueEntry {
  readonly category: string;
  readonly suggestion: string;
}

/** Every rejection kind, with its heading and its suggestion. */
export const CATALOGUE: Readonly<Record<RejectKind, CatalogueEntry>> = {
  'uninit-reg': { category: 'Registers: Uninitialized read', suggestion: 'A register is read before anything was written to it on this path. Calls clobber r1-r5 and helpers with no return value leave r0 unset: keep values you need across a call in a variable (the compiler keeps those in r6-r9), and give every path through the function a return value.' },
  'bad-insn': { category: 'Instructions: Invalid encoding', suggestion: 'The instruction uses fields or registers the BPF instruction set does not define. This is usually hand-written assembly or a corrupted object: rebuild it with clang -target bpf.' },
  'frame-pointer': { category: 'Registers: Read-only frame pointer', suggestion: 'r10 is the frame pointer and cannot be written. Copy it to another register before doing arithmetic on it.' },
  'div-by-zero': { category: 'Arithmetic: Division by zero', suggestion: 'A division or modulo by the constant 0. Check the divisor, or use a variable whose value can be non-zero.' },
  'bad-shift': { category: 'Arithmetic: Invalid shift', suggestion: 'Shift amounts must be 0-31 for 32-bit operations and 0-63 for 64-bit ones. Mask the amount, or shift a wider type.' },
  'null-pointer': { category: 'Memory: Possibly NULL pointer', suggestion: 'The pointer may be NULL here: bpf_map_lookup_elem, bpf_ringbuf_reserve and socket lookups return NULL on failure. Compare it with NULL before the access, e.g. `if (!value) return XDP_PASS;`, and use the checked pointer.' },
  'bad-pointer-type': { category: 'Memory: Not a pointer', suggestion: 'The register holds a number (or a pointer of a kind that cannot be dereferenced), not a pointer the program may read or write through. Packet pointers become numbers after helpers that move the packet (bpf_xdp_adjust_head, bpf_skb_pull_data, ...): load ctx->data and ctx->data_end again after such calls.' },
  'packet-range': { category: 'Packet: Access out of bounds', suggestion: 'Every packet access must be proved inside the packet first: compare the end of what you read with data_end, e.g. `if ((void *)(eth + 1) > data_end) return XDP_DROP;`, using the same pointer (or one derived from it by constant offsets) for the check and the access.' },
  'map-range': { category: 'Map value: Access out of bounds', suggestion: 'The access reaches past the end of the map value (or key). Check the offset against the value size, e.g. `if (idx >= ARRAY_SIZE(value->slots)) return 0;`, and make sure the struct in the map definition matches the one you access.' },
  'mem-range': { category: 'Memory: Access out of bounds', suggestion: 'The access reaches past the memory the pointer was given for (a ring buffer sample is as large as bpf_ringbuf_reserve asked for). Keep the offset plus the access size within that size.' },
  'negative-index': { category: 'Memory: Possibly negative offset', suggestion: 'The offset added to the pointer may be negative. Use an unsigned type for the index, or check `if (idx < 0) return ...;` before using it.' },
  'unbounded-index': { category: 'Memory: Unbounded offset', suggestion: 'Nothing bounds the variable offset added to the pointer. Add an explicit upper bound before the access, e.g. `if (idx >= MAX) return 0;` or `idx &= MAX - 1;`.' },
  'stack-range': { category: 'Stack: Access out of bounds', suggestion: 'Stack accesses must stay inside the 512-byte frame below r10. Use smaller local variables, or keep large buffers in a per-CPU array map.' },
  'stack-fill': { category: 'Stack: Invalid spill or fill', suggestion: 'A pointer was stored to or loaded from the stack with fewer than 8 bytes. Keep pointers in full 64-bit variables.' },
  'misaligned': { category: 'Memory: Misaligned access', suggestion: 'The access is not aligned to its size (the stack always requires it; other memory only under strict alignment). Align the field, or read it with a smaller size or bpf_probe_read_kernel / __builtin_memcpy.' },
  'read-only': { category: 'Memory: Write to read-only memory', suggestion: 'This memory may only be read by the program: const global data (.rodata), map keys, and pointers to sockets. Copy the data to the stack before changing it.' },
  'ctx-field': { category: 'Context: Invalid field access', suggestion: 'The program type does not allow this access to its context (the field, its size or a write to a read-only field). Check the field against the program type: e.g. socket filters cannot read data/data_end, and only a few __sk_buff fields are writable.' },
  'ctx-modified': { category: 'Context: Modified pointer', suggestion: 'The context pointer (or socket pointer) must be used exactly as the program got it. Access fields as ctx->field instead of adding offsets to the pointer yourself.' },
  'var-offset': { category: 'Memory: Variable offset not allowed', suggestion: 'This kind of pointer only allows constant offsets. Access the fields with constant offsets, or copy the data somewhere an index may be used.' },
  'pointer-arith': { category: 'Pointers: Arithmetic not allowed', suggestion: 'This arithmetic on a pointer is not allowed: only adding or subtracting a bounded scalar to pointers into memory, never on NULL-able pointers or in 32-bit operations. Null-check the pointer first and keep offsets in 64-bit integers.' },
  'pointer-compare': { category: 'Pointers: Comparison not allowed', suggestion: 'These pointers cannot be compared. Compare packet pointers with data_end, and other pointers with NULL.' },
  'special-field': { category: 'Map value: Special field access', suggestion: 'struct bpf_spin_lock and struct bpf_timer fields of a map value may only be used through their helpers. Do not read, write or memcpy over them.' },
  'packet-write': { category: 'Packet: Write not allowed', suggestion: 'This program type may read the packet directly but not write it. Use the helpers this type provides (e.g. bpf_skb_store_bytes) or a program type that may change packets.' },
  'helper-unknown': { category: 'Helper call: Unknown or unavailable helper', suggestion: 'The program calls a helper this program type (or this runtime) does not provide. Check the helper against the program type, and compile against the headers the runtime ships.' },
  'helper-arg': { category: 'Helper call: Wrong argument type', suggestion: 'An argument does not have the type the helper expects: memory arguments must point to the stack, a map value or the packet, sizes must be bounded scalars, and maybe-NULL pointers must be checked first.' },
  'helper-size': { category: 'Helper call: Invalid size argument', suggestion: 'The size passed to the helper must be a bounded, non-negative value (non-zero unless the helper allows zero). Bound it first, e.g. `len &= 0xff;` or `if (len > sizeof(buf)) return 0;`, and check it is not 0.' },
  'helper-map': { category: 'Helper call: Wrong map', suggestion: 'The map passed to the helper is of a kind it does not accept (a PROG_ARRAY is only for bpf_tail_call, a RINGBUF only for the ringbuf helpers, and so on). Pass a map of the right type.' },
  'callback': { category: 'Helper call: Invalid callback', suggestion: 'The callback argument must be a static function of the program, passed by name.' },
  'call-depth': { category: 'Function calls: Too deep', suggestion: 'Calls nest at most 8 frames deep. Inline small functions (static __always_inline) or flatten the call chain.' },
  'stack-size': { category: 'Function calls: Combined stack too large', suggestion: 'The stack frames of a call chain add up to more than 512 bytes. Move large local buffers to a per-CPU array map, or inline functions so frames are shared.' },
  'kfunc': { category: 'Function calls: Kernel functions unsupported', suggestion: 'The program calls a kernel function (kfunc) by BTF id that this runtime does not implement; it has only the packet dynptr kfuncs (bpf_dynptr_from_xdp/skb, bpf_dynptr_slice[_rdwr]). Use helpers instead.' },
  'ref-leak': { category: 'References: Not released', suggestion: 'A reference taken on this path is still held at exit: every bpf_ringbuf_reserve must be followed by bpf_ringbuf_submit or bpf_ringbuf_discard, and every socket lookup by bpf_sk_release, on every path (including error paths).' },
  'ref-release': { category: 'References: Invalid release', suggestion: 'The pointer given back was not acquired (or was already given back). Pass the exact pointer bpf_ringbuf_reserve or the lookup returned, after checking it against NULL, and release it once.' },
  'lock': { category: 'Spin lock: Misuse', suggestion: 'bpf_spin_lock must be paired with bpf_spin_unlock of the same lock on every path, with no helper or function calls in between and no return while it is held.' },
  'cfg-range': { category: 'Control flow: Jump out of range', suggestion: 'A jump or call leaves its function or the program. This is a malformed object: rebuild it with clang.' },
  'cfg-unreachable': { category: 'Control flow: Unreachable instruction', suggestion: 'Linux rejects programs with instructions no path reaches. This usually comes from hand-written assembly: remove the dead code.' },
  'cfg-fallthrough': { category: 'Control flow: Falls off the end', suggestion: 'The last instruction of a function must be exit or a jump. This is a malformed object: rebuild it with clang.' },
  'infinite-loop': { category: 'Loops: Infinite loop', suggestion: 'A loop reaches the same state again, so it can never end. Make the loop variable change on every iteration and bound it, e.g. `for (i = 0; i < MAX && i < n; i++)`, or use bpf_loop / bpf_for.' },
  'complexity': { category: 'Complexity: Limit reached', suggestion: 'The verifier explored 1,000,000 instructions without finishing. Bound loops with small constants, reduce the number of branches whose outcomes combine, or move loop bodies into bpf_loop callbacks.' },
  'return-value': { category: 'Return value: Out of range', suggestion: 'The value returned is not one this program type allows (cgroup_skb programs return 1 to allow, 0 to drop; callbacks return 0 or 1). Return only the allowed constants.' },
  'func-return-type': { category: 'Functions: Return type', suggestion: 'A function that uses LD_ABS/LD_IND or makes a tail call returns r0 from them when they fail, so it must return an integer: declare it `static int`, not `void`.' },
  'tail-call': { category: 'Tail calls: Not allowed here', suggestion: 'A tail call cannot be made while holding references or a lock: release them first.' },
  'program-type': { category: 'Program: Type not verifiable', suggestion: 'The verifier has no model of this program type, so it cannot be proved safe. Use one of the types the runtime runs (xdp, tc, socket, cgroup_skb, or the tracing types).' },
};

/** Where a rejected program failed and why. */
export interface RejectionReport {
  readonly kind: RejectKind;
  readonly category: string;
  /** Linux's wording, one or more lines. */
  readonly message: string;
  readonly suggestion: string;
  readonly pc: number;
  readonly insn?: Instruction;
  readonly source?: SourceLine;
  /** The function the pc is in, and the pc's offset in it. */
  readonly where?: string;
  /** Registers and stack at the failure, in Linux's notation. */
  readonly state?: string;
  /** pcs of the instructions the failure depended on, oldest first. */
  readonly causalPath: readonly number[];
}

/** A program the verifier refused, with everything a person needs to fix it. */
function reasonOf(report: RejectionReport): string {
  return `pc ${report.pc}: ${report.message.split('\n')[0]}`;
}

export class VerifierError extends BpfError {
  constructor(
    readonly program: string,
    readonly report: RejectionReport,
    /** The report as text (and the walked instructions before it, with fullLog). */
    readonly log: string,
    /** What the verifier had done when it gave up. */
    readonly stats: { readonly insnsProcessed: number; readonly states: number; readonly ms: number } = { insnsProcessed: 0, states: 0, ms: 0 },
  ) {
    super(`verifier-${report.kind}`, `program '${program}' rejected by the verifier: ${reasonOf(report)}`);
  }

  /** Where and why, in one line, without the program's name: "pc 0: R0 !read_ok". */
  get reason(): string {
    return reasonOf(this.report);
  }

  /** The pc of the failing instruction. */
  get pc(): number {
    return this.report.pc;
  }
}

/** Registers and stack of the innermost frame, as Linux prints them. */
export function formatState(state: State): string {
  const frame = state.frames[state.frames.length - 1]!;
  let out = frame.frameNo ? `frame${frame.frameNo}:` : '';
  frame.regs.forEach((reg, r) => {
    if (reg.type === RegType.NotInit) return;
    out += ` R${r}=${formatReg(reg, frame.frameNo)}`;
  });
  out += formatStack(frame, (reg) => formatReg(reg, frame.frameNo));
  if (state.refs.length) out += ` refs=${state.refs.map((r) => r.id).join(',')}`;
  return out.trim();
}

/** Both disassembly styles of an instruction: llvm-objdump's and the assembler's. */
export function formatBoth(insn: Instruction): string {
  return `${formatObjdump(insn)}    ; ${formatInstruction(insn)}`;
}

const key = (frame: number, what: string) => `${frame}:${what}`;

/** Registers an instruction reads (for the slice). */
function reads(insn: Instruction): number[] {
  const row = specOf(insn.op);
  const x = (row.opcode & 0x08) !== 0;
  switch (row.form) {
    case 'alu': return (row.opcode & 0xf0) === 0xb0 ? (x ? [insn.src] : []) : x ? [insn.dst, insn.src] : [insn.dst];
    case 'unary': return [insn.dst];
    case 'ldx': return [insn.src];
    case 'st': return [insn.dst];
    case 'stx': case 'atomic': return [insn.dst, insn.src];
    case 'jcc': return x ? [insn.dst, insn.src] : [insn.dst];
    case 'call': case 'calllocal': return [1, 2, 3, 4, 5];
    case 'exit': return [0];
    case 'ldind': return [6, insn.src];
    case 'ldabs': return [6];
    default: return [];
  }
}

/** The register an instruction writes, if any (for the slice). */
function writes(insn: Instruction): number | undefined {
  const form = specOf(insn.op).form;
  if (form === 'alu' || form === 'unary' || form === 'ldx' || form === 'lddw') return insn.dst;
  if (form === 'call' || form === 'calllocal' || form === 'ldabs' || form === 'ldind') return 0;
  return undefined;
}

/**
 * The causal path: walking the failing path backwards from the failure, keep the instructions that
 * wrote a register or stack slot the failure (transitively) read, and the conditions that tested
 * one. A packet access also keeps the comparisons that proved (or failed to prove) packet ranges,
 * a NULL dereference the NULL checks, and a leak the call that took the reference and every
 * decision since. Returns pcs, oldest first.
 */
export function causalPath(
  path: PathNode | undefined, byPc: readonly (Instruction | undefined)[], failing: Instruction, registers: readonly number[] | undefined,
  frame: number, kind?: RejectKind, heldRefPcs: readonly number[] = [],
): number[] {
  if (kind === 'ref-leak' || kind === 'lock') return decisionsSince(path, byPc, heldRefPcs);
  const relevant = new Set<string>((registers ?? reads(failing)).map((r) => key(frame, `r${r}`)));
  if (failing && specOf(failing.op).form === 'ldx' && path?.stackOff !== undefined) relevant.add(key(path.stackFrame!, `fp${path.stackOff}`));
  const wantCheck = kind === 'packet-range' ? 'packet' : kind === 'null-pointer' ? 'null' : undefined;
  const kept: number[] = [];
  // The failing instruction itself is the first node of the path; start from the one before.
  let node = path && path.pc === failing.pc ? path.prev : path;
  for (; node && relevant.size > 0; node = node.prev) {
    const insn = byPc[node.pc];
    if (!insn) continue;
    const f = node.frame;
    const form = specOf(insn.op).form;
    if (form === 'jcc') {
      if ((wantCheck && node.check === wantCheck) || reads(insn).some((r) => relevant.has(key(f, `r${r}`)))) {
        kept.push(node.pc);
        for (const r of reads(insn)) relevant.add(key(f, `r${r}`));
      }
      continue;
    }
    if ((form === 'stx' || form === 'st') && node.stackOff !== undefined && relevant.has(key(node.stackFrame!, `fp${node.stackOff}`))) {
      kept.push(node.pc);
      relevant.delete(key(node.stackFrame!, `fp${node.stackOff}`));
      if (form === 'stx') relevant.add(key(f, `r${insn.src}`));
      continue;
    }
    if (form === 'calllocal') {
      // Arguments of the callee are the caller's r1-r5.
      for (let r = 1; r <= 5; r++) {
        if (relevant.delete(key(f + 1, `r${r}`))) relevant.add(key(f, `r${r}`));
      }
    }
    const w = writes(insn);
    if (w === undefined || !relevant.has(key(f, `r${w}`))) continue;
    kept.push(node.pc);
    relevant.delete(key(f, `r${w}`));
    const isMove = form === 'alu' && (insn.opcode & 0xf0) === 0xb0;
    if (form === 'ldx' && node.stackOff !== undefined) relevant.add(key(node.stackFrame!, `fp${node.stackOff}`));
    else if (form === 'call') { /* a helper's result depends on its arguments, not worth following */ }
    else if (form !== 'lddw') for (const r of reads(insn)) if (!(isMove && r === insn.dst)) relevant.add(key(f, `r${r}`));
  }
  return kept.reverse();
}

/** For a reference or lock still held: the call that took it and every branch decided since. */
function decisionsSince(path: PathNode | undefined, byPc: readonly (Instruction | undefined)[], fromPcs: readonly number[]): number[] {
  const kept: number[] = [];
  const start = new Set(fromPcs);
  for (let node = path; node; node = node.prev) {
    const insn = byPc[node.pc];
    if (!insn) continue;
    const form = specOf(insn.op).form;
    if (form === 'jcc' || start.has(node.pc)) kept.push(node.pc);
    start.delete(node.pc);
    if (fromPcs.length > 0 && start.size === 0) break;
  }
  return [...new Set(kept.reverse())];
}

/** The report as text, in the layout Linux 7.3 introduced (heading, reason, place, path, suggestion). */
export function renderReport(report: RejectionReport, byPc: readonly (Instruction | undefined)[], sourceOf: (pc: number) => SourceLine | undefined): string {
  const lines = [`Verification failed: ${report.category}`, `Reason: ${report.message.split('\n').join('\n        ')}`];
  const src = report.source ? ` (${report.source.file}:${report.source.line}: ${report.source.text.trim()})` : '';
  lines.push(`At: pc ${report.pc}${report.where ? ` in ${report.where}` : ''}${src}`);
  if (report.insn) lines.push(`    ${report.pc}: ${formatBoth(report.insn)}`);
  if (report.state) lines.push(`State: ${report.state}`);
  if (report.causalPath.length > 0) {
    lines.push('Causal path:');
    let lastLine = '';
    for (const pc of report.causalPath) {
      const s = sourceOf(pc);
      const line = s ? `${s.file}:${s.line}` : '';
      if (s && line !== lastLine) lines.push(`    ; ${s.text.trim()} @ ${line}`);
      lastLine = line;
      const insn = byPc[pc];
      if (insn) lines.push(`    ${pc}: ${formatBoth(insn)}`);
    }
  }
  lines.push(`Suggestion: ${report.suggestion}`);
  return lines.join('\n');
}
