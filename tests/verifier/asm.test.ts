// The verifier on small hand-written programs, one rule each, as Linux's test_verifier does it:
// the verdict, and for a rejection Linux's message and the pc it names. Programs are assembler
// text; `lddw %rN, map:NAME` loads one of the maps below, `lddw %rN, value:NAME+OFF` the address of
// a byte of global data.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { Runtime } from '../../runtime/runtime.js';
import { verify } from '../../verifier/verifier.js';
import type { MapInfo } from '../../verifier/registers.js';
import type { MapReferenceInfo } from '../../verifier/env.js';

const MAPS: Record<string, MapInfo> = {
  hash: { name: 'hash', type: 1, keySize: 4, valueSize: 16, maxEntries: 8, flags: 0, readOnly: false },
  array: { name: 'array', type: 2, keySize: 4, valueSize: 64, maxEntries: 4, flags: 0, readOnly: false },
  locked: { name: 'locked', type: 2, keySize: 4, valueSize: 16, maxEntries: 1, flags: 0, readOnly: false, spinLockOffset: 0 },
  ring: { name: 'ring', type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, readOnly: false },
  progs: { name: 'progs', type: 3, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, readOnly: false },
  rodata: { name: '.rodata', type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x80, readOnly: true, frozen: Uint8Array.of(7, 0, 0, 0, 'h'.charCodeAt(0), 'i'.charCodeAt(0), 0, 0) },
};

const runtime = new Runtime();

/** Verifies an assembler program of a program type; returns the verdict, the first line of the message and the pc. */
function check(asm: string, type = 'xdp', attach?: 'ingress' | 'egress') {
  const maps = new Map<number, MapReferenceInfo>();
  const lines = asm.trim().split('\n').map((line) => {
    const m = /lddw\s+%r(\d+),\s*(map|value):([.\w]+)(?:\+(\d+))?/.exec(line);
    if (!m) return { text: line };
    return { text: `lddw %r${m[1]}, 0`, ref: { map: MAPS[m[3]!]!, kind: m[2] as 'map' | 'value', offset: Number(m[4] ?? 0) } };
  });
  const insns = assemble(lines.map((l) => l.text).join('\n'));
  const statements = lines.filter((l) => l.text.trim() !== '' && !/^\s*[\w.]+:\s*$/.test(l.text));
  insns.forEach((insn, i) => {
    const ref = statements[i]?.ref;
    if (ref) maps.set(insn.pc, ref);
  });
  const result = verify({ name: 'test', type: type as 'xdp', ...(attach ? { attach } : {}), insns, helpers: runtime.helpersFor(type as 'xdp'), maps });
  return result.accepted
    ? { verdict: 'accepted' as const }
    : { verdict: 'rejected' as const, message: result.error!.report.message, pc: result.error!.report.pc, kind: result.error!.report.kind };
}

interface Case {
  name: string;
  asm: string;
  type?: string;
  attach?: 'ingress' | 'egress';
  /** A regex the message must match (rejected cases), and the pc it names. */
  reject?: RegExp;
  pc?: number;
}

const CASES: Case[] = [
  // Registers and instructions.
  { name: 'reading a register never written', asm: 'mov %r0, %r2\nexit', reject: /^R2 !read_ok$/, pc: 0 },
  { name: 'exit without r0', asm: 'exit', reject: /^R0 !read_ok$/, pc: 0 },
  { name: 'r0 unset on one path only', asm: 'ldxw %r2, [%r1+12]\njeq %r2, 0, +1\nmov %r0, 0\nexit', reject: /^R0 !read_ok$/, pc: 3 },
  { name: 'writing the frame pointer', asm: 'mov %r10, 0\nexit', reject: /^frame pointer is read only$/ },
  { name: 'division by the constant 0', asm: 'mov %r0, 1\ndiv %r0, 0\nexit', reject: /^div by zero$/, pc: 1 },
  { name: 'shift by 64', asm: 'mov %r0, 1\nlsh %r0, 64\nexit', reject: /^invalid shift 64$/, pc: 1 },
  // Control flow.
  { name: 'an unreachable instruction', asm: 'mov %r0, 0\nexit\nmov %r0, 1\nexit', reject: /^unreachable insn 2$/, pc: 2 },
  { name: 'falling off the end', asm: 'mov %r0, 0\njeq %r0, 0, -2', reject: /^last insn is not an exit or jmp$/ },
  { name: 'a loop that never changes is infinite', asm: 'mov %r0, 0\nloop:\njeq %r0, 0, loop\nexit', reject: /^infinite loop detected at insn 1$/ },
  { name: 'a bounded loop is walked and accepted', asm: 'mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 10, loop\nexit' },
  { name: 'a loop bounded by may_goto converges', asm: 'mov %r0, 0\nldxw %r2, [%r1+12]\nloop:\nmay_goto end\nadd %r0, 1\njlt %r0, %r2, loop\nend:\nmov %r0, 0\nexit' },
  // Widening at may_goto forgets what does not steer, never a counter that decides its loop's exit.
  { name: 'a counted loop with a may_goto inside keeps its counter', asm: 'mov %r0, 0\nmov %r6, 2\nouter:\nmov %r7, 4\ninner:\nmay_goto skip\nadd %r0, 3\nskip:\nsub32 %r7, 1\njne32 %r7, 0, inner\nsub %r6, 1\njgt %r6, 0, outer\nmov %r0, 0\nexit' },
  { name: 'a loop whose counter never changes is infinite even with a may_goto inside', asm: 'mov %r0, 0\nmov %r7, 4\nloop:\nmay_goto skip\nadd %r0, 3\nskip:\njne32 %r7, 0, loop\nmov %r0, 0\nexit', reject: /^infinite loop detected at insn 2$/ },
  // Packet access.
  { name: 'packet read without a check', asm: 'ldxw %r2, [%r1]\nldxb %r0, [%r2]\nexit', reject: /^invalid access to packet, off=0 size=1, R2\(id=0,off=0,r=0\)\nR2 offset is outside of the packet$/, pc: 1 },
  { name: 'packet read after a data_end check', asm: 'ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +2\nldxh %r0, [%r2+12]\nexit\nmov %r0, 1\nexit' },
  { name: 'packet read one byte past the check', asm: 'ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +2\nldxh %r0, [%r2+13]\nexit\nmov %r0, 1\nexit', reject: /^invalid access to packet, off=13 size=2, R2\(id=0,off=13,r=14\)/ },
  { name: 'the swapped form (data_end >= ptr) proves the range too', asm: 'ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 4\njge %r3, %r4, +2\nmov %r0, 1\nexit\nldxw %r0, [%r2]\nexit' },
  { name: 'a packet pointer is gone after bpf_xdp_adjust_head', asm: 'mov %r6, %r1\nldxw %r7, [%r1]\nldxw %r3, [%r1+4]\nmov %r4, %r7\nadd %r4, 1\njgt %r4, %r3, +5\nmov %r1, %r6\nmov %r2, 0\ncall 44\nldxb %r0, [%r7]\nexit\nmov %r0, 0\nexit', reject: /^R7 invalid mem access 'scalar'$/, pc: 9 },
  { name: 'socket filters cannot read data', type: 'socket_filter', asm: 'ldxw %r2, [%r1+76]\nmov %r0, 0\nexit', reject: /^invalid bpf_context access off=76 size=4$/ },
  { name: 'cgroup_skb may read the packet but not write it', type: 'cgroup_skb', asm: 'ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +1\nstb [%r2], 1\nmov %r0, 1\nexit', reject: /^cannot write into packet$/ },
  // Context.
  { name: 'xdp context fields are read-only', asm: 'stw [%r1+12], 1\nmov %r0, 0\nexit', reject: /^invalid bpf_context access off=12 size=4$/ },
  { name: 'a context pointer moved before the load', asm: 'add %r1, 4\nldxw %r0, [%r1]\nexit', reject: /^dereference of modified ctx ptr R1 off=4 disallowed$/ },
  { name: 'tc writes mark and reads it back narrowly', type: 'sched_cls', asm: 'stw [%r1+8], 7\nldxb %r0, [%r1+8]\nexit' },
  { name: 'tc cannot write len', type: 'sched_cls', asm: 'stw [%r1+0], 7\nmov %r0, 0\nexit', reject: /^invalid bpf_context access off=0 size=4$/ },
  { name: 'egress_ifindex is only for devmap programs', asm: 'ldxw %r0, [%r1+20]\nexit', reject: /^invalid bpf_context access off=20 size=4$/ },
  // Stack.
  { name: 'a stack access below the frame', asm: 'stdw [%r10-520], 0\nmov %r0, 0\nexit', reject: /^invalid write to stack R10 off=-520 size=8$/ },
  { name: 'a misaligned stack access', asm: 'stw [%r10-6], 0\nmov %r0, 0\nexit', reject: /^misaligned stack access off 0\+0\+-6 size 4$/ },
  { name: 'a spilled pointer comes back as the pointer', asm: 'stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxw %r0, [%r2+12]\nexit' },
  { name: 'half of a spilled pointer is refused', asm: 'stxdw [%r10-8], %r1\nldxw %r2, [%r10-8]\nmov %r0, 0\nexit', reject: /^invalid size of register fill$/ },
  { name: 'reading uninitialised stack gives an unknown (as Linux allows a privileged loader)', asm: 'ldxdw %r0, [%r10-8]\nexit' },
  // Maps.
  { name: 'a lookup result used without a NULL check', asm: 'stw [%r10-4], 0\nlddw %r1, map:hash\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0]\nexit', reject: /^R0 invalid mem access 'map_value_or_null'$/, pc: 6 },
  { name: 'a lookup result used after a NULL check, and a copy checked through the original', asm: 'stw [%r10-4], 0\nlddw %r1, map:hash\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\njeq %r0, 0, +2\nldxdw %r0, [%r6+8]\nexit\nmov %r0, 0\nexit' },
  { name: 'a map value read past its end', asm: 'stw [%r10-4], 0\nlddw %r1, map:hash\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +2\nldxdw %r0, [%r0+12]\nexit\nmov %r0, 0\nexit', reject: /^invalid access to map value, value_size=16 off=12 size=8/ },
  { name: 'a variable index bounded by a check', asm: 'stw [%r10-4], 0\nlddw %r1, map:array\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +6\nldxw %r1, [%r0]\njgt %r1, 7, +4\nlsh %r1, 3\nadd %r0, %r1\nldxdw %r0, [%r0]\nexit\nmov %r0, 0\nexit' },
  { name: 'a variable index bounded with a 32-bit check', asm: 'stw [%r10-4], 0\nlddw %r1, map:array\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +6\nldxw %r1, [%r0]\njgt32 %r1, 7, +4\nlsh %r1, 3\nadd %r0, %r1\nldxdw %r0, [%r0]\nexit\nmov %r0, 0\nexit' },
  { name: 'a variable index without a bound', asm: 'stw [%r10-4], 0\nlddw %r1, map:array\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +4\nldxw %r1, [%r0]\nadd %r0, %r1\nldxb %r0, [%r0]\nexit\nmov %r0, 0\nexit', reject: /^invalid access to map value, value_size=64 off=4294967295 size=1|R0 unbounded memory access/ },
  { name: 'a key on the stack must be as large as the key size', asm: 'stb [%r10-1], 0\nlddw %r1, map:hash\nmov %r2, %r10\nadd %r2, -1\ncall 1\nmov %r0, 0\nexit', reject: /^invalid indirect access to stack R2 off=-1 size=4$/ },
  { name: 'a PROG_ARRAY only goes to bpf_tail_call', asm: 'stw [%r10-4], 0\nlddw %r1, map:progs\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit', reject: /^cannot pass map_type 3 into func bpf_map_lookup_elem#1$/ },
  { name: 'const global data reads as its value', asm: 'lddw %r1, value:rodata\nldxw %r0, [%r1]\njeq %r0, 7, +1\nldxw %r0, [%r1+100]\nexit' },
  { name: 'const global data cannot be written', asm: 'lddw %r1, value:rodata\nstw [%r1], 1\nmov %r0, 0\nexit', reject: /^write into map forbidden, value_size=8 off=0 size=4$/ },
  // Pointer arithmetic.
  { name: 'adding two pointers', asm: 'mov %r0, %r10\nadd %r0, %r1\nexit', reject: /^R0 pointer add pointer prohibited$/ },
  { name: '32-bit arithmetic on a pointer', asm: 'mov %r0, %r1\nadd32 %r0, 4\nexit', reject: /^R0 32-bit pointer arithmetic prohibited$/ },
  { name: 'subtracting from a stack pointer', asm: 'mov %r2, %r10\nsub %r2, 8\nmov %r0, 0\nexit', reject: /^R2 subtraction from stack pointer prohibited$/ },
  { name: 'pointer minus pointer is a number (privileged)', asm: 'mov %r2, %r10\nsub %r2, %r1\nmov %r0, %r2\nexit' },
  { name: 'arithmetic on a maybe-NULL pointer', asm: 'stw [%r10-4], 0\nlddw %r1, map:hash\nmov %r2, %r10\nadd %r2, -4\ncall 1\nadd %r0, 4\nmov %r0, 0\nexit', reject: /^R0 pointer arithmetic on map_value_or_null prohibited, null-check it first$/ },
  // Helpers, references, locks.
  { name: 'a helper this program type lacks', asm: 'call 9\nmov %r0, 0\nexit', reject: /^program of this type cannot use helper bpf_skb_store_bytes#9$/ },
  { name: 'an unknown helper id', asm: 'call 100000\nmov %r0, 0\nexit', reject: /^invalid func unknown#100000$/ },
  { name: 'a socket looked up and released', type: 'sched_cls', asm: 'mov %r6, %r1\nstdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84\njne %r0, 0, +2\nmov %r0, 0\nexit\nmov %r1, %r0\ncall 86\nmov %r0, 0\nexit' },
  { name: 'bpf_sk_fullsock\'s result dies with the reference it came from', type: 'sched_cls', asm: 'mov %r6, %r1\nstdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84\njne %r0, 0, +2\nmov %r0, 0\nexit\nmov %r7, %r0\nmov %r1, %r0\ncall 95\njeq %r0, 0, +5\nmov %r8, %r0\nmov %r1, %r7\ncall 86\nldxw %r0, [%r8+4]\nexit\nmov %r1, %r7\ncall 86\nmov %r0, 0\nexit', reject: /^R8 invalid mem access 'scalar'$/, pc: 19 },
  { name: 'a ringbuf record leaks', asm: 'lddw %r1, map:ring\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit', reject: /^Unreleased reference id=\d+ alloc_insn=4\nBPF_EXIT instruction in main prog would lead to reference leak$/ },
  { name: 'a ringbuf record submitted on every path', asm: 'lddw %r1, map:ring\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, +4\nstdw [%r0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit' },
  { name: 'a ringbuf record written past its size', asm: 'lddw %r1, map:ring\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, +4\nstdw [%r0+4], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit', reject: /^invalid access to memory, mem_size=8 off=4 size=8/ },
  { name: 'a helper called while holding a lock', type: 'sched_cls', asm: 'stw [%r10-4], 0\nlddw %r1, map:locked\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +6\nmov %r6, %r0\nmov %r1, %r6\ncall 93\ncall 5\nmov %r1, %r6\ncall 94\nmov %r0, 0\nexit', reject: /^function calls are not allowed while holding a lock$/, pc: 10 },
  { name: 'an exit while holding a lock', type: 'sched_cls', asm: 'stw [%r10-4], 0\nlddw %r1, map:locked\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +2\nmov %r1, %r0\ncall 93\nmov %r0, 0\nexit', reject: /^bpf_spin_unlock is missing$/ },
  { name: 'the size of a helper memory argument is unbounded', type: 'sched_cls', asm: 'mov %r6, %r1\nldxw %r4, [%r1+0]\nmov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -16\ncall 26\nmov %r0, 0\nexit', reject: /^R4 invalid zero-sized read: u64=\[0,4294967295\]$|R4 unbounded memory access/ },
  { name: 'bpf_loop with a callback returning 0 or 1', asm: 'mov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r0, 0\nexit' },
  { name: 'a bpf_loop callback returning 2', asm: 'mov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r0, 2\nexit', reject: /^At callback return the register R0 has smin=2 smax=2 should have been in \[0, 1\]$/ },
  // Return values.
  { name: 'cgroup_skb ingress returns 2', type: 'cgroup_skb', attach: 'ingress', asm: 'mov %r0, 2\nexit', reject: /^At program exit the register R0 has smin=2 smax=2 should have been in \[0, 1\]$/ },
  { name: 'cgroup_skb egress may return 3', type: 'cgroup_skb', attach: 'egress', asm: 'mov %r0, 3\nexit' },
  // Calls.
  { name: 'a call to a function, its frame and its return value', asm: 'mov %r1, 5\ncall local f\nexit\nf:\nmov %r0, %r1\nexit' },
  { name: 'a function returns a pointer to its own stack', asm: 'call local f\nmov %r0, 0\nexit\nf:\nmov %r0, %r10\nexit', reject: /^cannot return stack pointer to the caller$/ },
  // Packet dynptrs (kfuncs by their helper ids: from_xdp 0x20000, from_skb 0x20001, slice 0x20002, slice_rdwr 0x20003).
  { name: 'a kfunc dynptr argument that is not on the stack', asm: 'mov %r2, 0\nmov %r3, %r1\ncall 131072\nexit', reject: /^arg#2 expected pointer to stack or const struct bpf_dynptr$/, pc: 2 },
  { name: 'a helper dynptr argument that is a scalar', asm: 'mov %r1, %r10\nadd %r1, -32\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 201\nexit', reject: /^R3 type=scalar expected=fp, dynptr_ptr$/, pc: 6 },
  { name: 'a dynptr without room for its second slot', asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -8\ncall 131072\nexit', reject: /^cannot pass in dynptr at an offset=-8$/, pc: 3 },
  { name: 'a dynptr not 8-byte aligned', asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -20\ncall 131072\nexit', reject: /^cannot pass in dynptr at an offset=-20$/, pc: 3 },
  {
    name: 'a store over half a dynptr destroys it',
    asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -16\ncall 131072\nstdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, 0\nmov %r4, 14\ncall 131074\nmov %r0, 0\nexit',
    reject: /^Expected an initialized dynptr as arg #0$/, pc: 10,
  },
  {
    name: 'a slice without a buffer, checked for NULL, read within its size',
    asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -16\ncall 131072\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, 0\nmov %r4, 14\ncall 131074\njeq %r0, 0, +1\nldxb %r0, [%r0+13]\nexit',
  },
  {
    name: 'a slice read past its constant size',
    asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -16\ncall 131072\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, 0\nmov %r4, 14\ncall 131074\njeq %r0, 0, +1\nldxb %r0, [%r0+14]\nexit',
    reject: /^invalid access to memory, mem_size=14 off=14 size=1\n/, pc: 11,
  },
  {
    name: 'a slice of an skb dynptr is gone after bpf_dynptr_write (it may move the packet)',
    type: 'sched_cls',
    asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -16\ncall 131073\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, 0\nmov %r4, 14\ncall 131074\njeq %r0, 0, +9\nmov %r7, %r0\n'
      + 'stdw [%r10-24], 0\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 8\nmov %r5, 0\ncall 202\nldxb %r0, [%r7+0]\nexit',
    reject: /^R7 invalid mem access 'scalar'$/, pc: 21,
  },
  {
    name: 'a writable slice in a socket filter, which may not write packet data',
    type: 'socket_filter',
    asm: 'mov %r2, 0\nmov %r3, %r10\nadd %r3, -16\ncall 131073\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, 0\nmov %r4, 14\ncall 131075\nmov %r0, 0\nexit',
    reject: /^the prog does not allow writes to packet data$/, pc: 9,
  },
];

describe('verifier rules, one program each', () => {
  test.for(CASES)('$name', (c) => {
    const r = check(c.asm, c.type, c.attach);
    if (!c.reject) {
      expect(r, r.verdict === 'rejected' ? `${r.message} at pc ${r.pc}` : '').toEqual({ verdict: 'accepted' });
      return;
    }
    expect(r.verdict).toBe('rejected');
    expect(r.verdict === 'rejected' && r.message).toMatch(c.reject);
    if (c.pc !== undefined) expect(r.verdict === 'rejected' && r.pc).toBe(c.pc);
  });
});

describe('what BTF says of a function', () => {
  const program = assemble('call local f\nmov %r0, 0\nexit\nf:\nmov %r6, %r1\nldabsb 12\nexit');
  const verdict = (returnsInt: boolean | undefined) => verify({
    name: 'test', type: 'socket_filter', insns: program, helpers: runtime.helpersFor('socket_filter'),
    functions: [{ name: 'test', pc: 0 }, { name: 'f', pc: 3, ...(returnsInt === undefined ? {} : { returnsInt }) }],
  });

  test('LD_ABS in a function BTF says returns void is refused before any path is walked', () => {
    const r = verdict(false);
    expect(r.error?.report.message).toBe('LD_ABS is only allowed in functions that return \'int\'.');
    expect(r.error?.report.pc).toBe(4);
    expect(r.insnsProcessed).toBe(0);
  });

  test('the same function returning int, or without BTF, is accepted', () => {
    expect(verdict(true).accepted).toBe(true);
    expect(verdict(undefined).accepted).toBe(true);
  });
});
