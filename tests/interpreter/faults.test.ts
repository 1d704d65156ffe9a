// Every way a run can stop with a typed trap, each naming the pc (and the address and size for
// memory faults). Table-driven: program, memory, expected error class, pc and message fragment.
import { describe, expect, test } from 'vitest';
import {
  BudgetExhaustedError, CallDepthError, FellOffEndError, HelperFailedError, MemoryFaultError,
  UninitializedRegisterError, UnsupportedInstructionError,
} from '../../interpreter/errors.js';
import { UnknownHelperError, helperTable } from '../../helpers/table.js';
import { BpfError } from '../../isa/errors.js';
import { runAsm } from '../support/run.js';

interface Case {
  name: string;
  asm: string;
  mem?: number[];
  error: new (...args: never[]) => BpfError;
  pc: number;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'read past the end of memory', asm: 'ldxw %r0, [%r1+6]\nexit', mem: [1, 2, 3, 4, 5, 6, 7, 8], error: MemoryFaultError, pc: 0, message: /read of 4 bytes at 0x[0-9a-f]+ is outside region 'test memory'/ },
  { name: 'one byte past the end', asm: 'ldxb %r0, [%r1+8]\nexit', mem: [1, 2, 3, 4, 5, 6, 7, 8], error: MemoryFaultError, pc: 0, message: /read of 1 byte at/ },
  { name: 'write below the start', asm: 'stb [%r1-1], 0\nmov %r0, 0\nexit', mem: [1, 2], error: MemoryFaultError, pc: 0, message: /write of 1 byte/ },
  { name: 'NULL dereference', asm: 'mov %r1, 0\nldxdw %r0, [%r1+0]\nexit', error: MemoryFaultError, pc: 1, message: /read of 8 bytes at 0x0 is in no region/ },
  { name: 'pointer with high bits set', asm: 'lddw %r1, 0x100001000\nstw [%r1+0], 1\nmov %r0, 0\nexit', error: MemoryFaultError, pc: 2, message: /write of 4 bytes at 0x100001000 is outside guest memory/ },
  { name: 'negative address', asm: 'mov %r1, 0\nldxb %r0, [%r1-1]\nexit', error: MemoryFaultError, pc: 1, message: /outside guest memory/ },
  { name: 'stack below the current frame', asm: 'stb [%r10-513], 1\nmov %r0, 0\nexit', error: MemoryFaultError, pc: 0, message: /write of 1 byte at 0x[0-9a-f]+ is outside the current stack frame/ },
  { name: 'a callee writing above its frame', asm: 'call local f\nexit\nf:\nstdw [%r10+0], 1\nmov %r0, 0\nexit', error: MemoryFaultError, pc: 2, message: /outside the current stack frame \[r10-512, r10\)/ },
  { name: 'stack above the frame pointer', asm: 'ldxb %r0, [%r10+0]\nexit', error: MemoryFaultError, pc: 0, message: /read of 1 byte/ },
  { name: 'reading a returned callee frame', asm: 'mov %r1, %r10\ncall local f\nldxb %r0, [%r0-1]\nexit\nf:\nmov %r0, %r10\nexit', error: MemoryFaultError, pc: 2, message: /outside region 'stack'/ },
  { name: 'misaligned atomic', asm: 'mov %r1, 1\nstxdw [%r10-16], %r1\nlock add [%r10-12], %r1\nmov %r0, 0\nexit', error: MemoryFaultError, pc: 2, message: /misaligned for an atomic/ },
  { name: 'uninitialized r0 at exit', asm: 'exit', error: UninitializedRegisterError, pc: 0, message: /r0 is read before it is written/ },
  { name: 'uninitialized source register', asm: 'mov %r0, %r7\nexit', error: UninitializedRegisterError, pc: 0, message: /r7/ },
  { name: 'r1 read after a helper call', asm: 'mov %r1, 1\ncall 5\nmov %r0, %r1\nexit', error: UninitializedRegisterError, pc: 2, message: /r1/ },
  { name: 'callee reading r6 it never set', asm: 'mov %r6, 1\ncall local f\nexit\nf:\nmov %r0, %r6\nexit', error: UninitializedRegisterError, pc: 3, message: /r6/ },
  // As in Linux, a called function's exit passes r0 back unread; the caller may not read it if unset.
  { name: 'r0 read after a void function', asm: 'call local f\nexit\nf:\nmov %r1, 1\nexit', error: UninitializedRegisterError, pc: 1, message: /r0 is read before it is written/ },
  { name: 'written on one path only', asm: 'jeq %r2, 0, +1\nmov %r0, 1\nexit', error: UninitializedRegisterError, pc: 2, message: /r0/ },
  { name: 'infinite loop', asm: 'mov %r0, 0\nja -1\nexit', error: BudgetExhaustedError, pc: 1, message: /budget of 1000 exhausted/ },
  { name: 'recursion past 8 frames', asm: 'f:\ncall local f\nexit', error: CallDepthError, pc: 0, message: /deeper than 8 frames/ },
  { name: 'falling off the end', asm: 'mov %r0, 0\nmov %r0, 1', error: FellOffEndError, pc: 2, message: /past the last instruction/ },
  { name: 'unresolved map reference', asm: 'lddw %r1, map_fd 3\nmov %r0, 0\nexit', error: UnsupportedInstructionError, pc: 0, message: /unresolved map/ },
  { name: 'call by BTF id', asm: 'call runtime 7\nexit', error: UnsupportedInstructionError, pc: 0, message: /BTF id 7/ },
  { name: 'callx to code whose address was never taken', asm: 'lddw %r2, 0x100000003\ncall %r2\nexit\nmov %r0, 1\nexit', error: UnsupportedInstructionError, pc: 2, message: /slot 3 is not a function whose address the program takes/ },
  { name: 'callx to no function and no helper', asm: 'mov %r2, 99\ncall %r2\nexit', error: UnsupportedInstructionError, pc: 1, message: /neither a function nor a known helper/ },
];

describe('interpreter traps', () => {
  test.for(cases)('$name', ({ asm, mem, error, pc, message }) => {
    let caught: unknown;
    try {
      runAsm(asm, mem ?? [], { budget: 1000 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(error);
    expect((caught as { pc: number }).pc).toBe(pc);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toMatch(new RegExp(`^pc ${pc}: `));
  });

  test('programs cannot write the register file the helper ABI uses', () => {
    // The stack takes the first block (0x1000, 8 KiB with its guard), the register file the next.
    expect(() => runAsm('lddw %r1, 0x3000\nstb [%r1+0], 1\nmov %r0, 0\nexit')).toThrow(/pc 2: write of 1 byte at 0x3000 is in read-only region 'register file'/);
  });

  test('a memory fault carries the address and size', () => {
    try {
      runAsm('mov %r1, 100\nldxh %r0, [%r1+2]\nexit');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MemoryFaultError);
      const fault = err as MemoryFaultError;
      expect(fault.address).toBe(102n);
      expect(fault.size).toBe(2);
      expect(fault.access).toBe('read');
    }
  });

  test('an unknown helper is refused at load with its id', () => {
    expect(() => runAsm('call 77\nexit')).toThrow(UnknownHelperError);
    expect(() => runAsm('call 77\nexit')).toThrow('pc 0: call to unknown helper bpf_rc_repeat (id 77)');
    expect(() => runAsm('call 5\nexit', [], { helpers: new Map() })).toThrow('pc 0: call to unknown helper bpf_ktime_get_ns (id 5)');
    expect(() => runAsm('call 999\nexit')).toThrow('pc 0: call to unknown helper id 999');
  });

  test('a helper that throws stops the run with the cause attached', () => {
    const helpers = helperTable([{ id: 1, name: 'broken', proto: { ret: 'integer', args: [] }, impl: () => { throw new Error('boom'); } }]);
    try {
      runAsm('call 1\nexit', [], { helpers });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HelperFailedError);
      expect((err as Error).message).toBe('pc 0: helper broken failed: boom');
      expect((err as Error).cause).toBeInstanceOf(Error);
    }
  });

  test('nothing outside guest memory is touched: faults leave the memory block as it was', () => {
    const mem = [1, 2, 3, 4];
    expect(() => runAsm('stw [%r1+2], 0\nmov %r0, 0\nexit', mem)).toThrow(MemoryFaultError);
  });
});
