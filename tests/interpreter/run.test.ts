// Interpreter behaviour beyond single-instruction semantics (those are in the .data suites):
// counts, tracing, calls and frames, function pointers, legacy packet loads, the register analysis.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { Interpreter, type TraceEvent } from '../../interpreter/interpreter.js';
import { prepare } from '../../interpreter/prepare.js';
import { analyzeRegisterInit } from '../../interpreter/register-init.js';
import { CONFORMANCE_HELPERS } from '../../conformance/helpers.js';
import { GuestMemory } from '../../runtime/memory.js';
import { runAsm } from '../support/run.js';

describe('interpreter runs', () => {
  test('counts executed instructions, lddw once', () => {
    const r = runAsm('mov %r0, 0\nmov %r1, 3\nloop:\nadd %r0, 2\nsub %r1, 1\njne %r1, 0, loop\nlddw %r2, 0x1\nexit');
    expect(r.r0).toBe(6n);
    expect(r.instructions).toBe(2 + 3 * 3 + 2);
  });

  test('returns all 64 bits of r0, unsigned', () => {
    expect(runAsm('mov %r0, -1\nexit').r0).toBe(0xffffffffffffffffn);
  });

  test('traces every instruction with the registers written so far', () => {
    const events: TraceEvent[] = [];
    const memory = new GuestMemory();
    const vm = new Interpreter(assemble('mov %r0, 7\nadd %r0, 1\nexit'), { memory, helpers: CONFORMANCE_HELPERS, trace: (e) => events.push(e) });
    vm.run();
    expect(events.map((e) => e.pc)).toEqual([0, 1, 2]);
    expect(events[1]!.registers[0]).toBe(7n);
    expect(events[2]!.registers[0]).toBe(8n);
    expect(events[0]!.insn.imm).toBe(7);
  });

  test('local calls pass r1-r5, return r0, preserve r6-r9 and get their own frame', () => {
    const r = runAsm(`
      mov %r6, 66
      stdw [%r10-8], 11
      mov %r1, %r10
      mov %r2, 5
      call local f
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      add %r0, %r6
      exit
    f:
      stdw [%r10-8], 1000
      ldxdw %r0, [%r1-8]
      add %r0, %r2
      mov %r6, 0
      exit`);
    // f reads the caller's slot through r1 (11) + r2 (5); the caller's slot is untouched (11); r6 is back (66).
    expect(r.r0).toBe(11n + 5n + 11n + 66n);
  });

  test('a void function (r0 never set) returns, as clang compiles `static __noinline void f(...)`', () => {
    // Linux checks r0 only at the program's exit and a callback's; a called function passes it back as is.
    expect(runAsm('stdw [%r10-8], 1\nmov %r1, %r10\nadd %r1, -8\ncall local bump\nldxdw %r0, [%r10-8]\nexit\nbump:\nldxdw %r2, [%r1+0]\nadd %r2, 1\nstxdw [%r1+0], %r2\nexit').r0).toBe(2n);
  });

  test('eight frames are allowed', () => {
    // The main program and seven nested callees.
    const calls = Array.from({ length: 6 }, (_, i) => `f${i}:\ncall local f${i + 1}\nexit`).join('\n');
    expect(runAsm(`call local f0\nexit\n${calls}\nf6:\nmov %r0, 42\nexit`).r0).toBe(42n);
  });

  test('callx calls a local function through a pointer from lddw func', () => {
    const r = runAsm('lddw %r3, func f\nmov %r1, 20\ncall %r3\nadd %r0, 1\nexit\nf:\nmov %r0, %r1\nmul %r0, 2\nexit');
    expect(r.r0).toBe(41n);
  });

  test('callx with a helper id calls the helper; helper 5 unwinds on 0', () => {
    expect(runAsm('mov %r1, 9\nmov %r2, 5\ncall %r2\nexit').r0).toBe(9n);
    expect(runAsm('mov %r1, 0\ncall 5\nmov %r0, 2\nexit').r0).toBe(0n);
  });

  test('legacy packet loads are big-endian and end the program with 0 when out of bounds', () => {
    const packet = [0x12, 0x34, 0x56, 0x78, 0x9a];
    expect(runAsm('ldabsw 1\nexit', packet).r0).toBe(0x3456789an);
    expect(runAsm('ldabsh 0\nexit', packet).r0).toBe(0x1234n);
    expect(runAsm('mov %r3, 2\nldindb %r3, 2\nexit', packet).r0).toBe(0x9an);
    expect(runAsm('ldabsw 2\nmov %r0, 7\nexit', packet).r0).toBe(0n);
    expect(runAsm('mov %r3, -1\nldindb %r3, 0\nmov %r0, 7\nexit', packet).r0).toBe(0n);
  });

  test('stores reach the shared guest memory', () => {
    const r = runAsm('stw [%r1+0], 0x11223344\nstxb [%r1+4], %r2\nmov %r0, 0\nexit', [0, 0, 0, 0, 0, 0]);
    expect([...r.memory]).toEqual([0x44, 0x33, 0x22, 0x11, 6, 0]);
  });

  test('runs repeat on the same interpreter with fresh registers', () => {
    const memory = new GuestMemory();
    const vm = new Interpreter(assemble('mov %r0, %r1\nadd %r0, 1\nexit'), { memory, helpers: CONFORMANCE_HELPERS });
    expect(vm.run({ args: [1] }).r0).toBe(2n);
    expect(vm.run({ args: [-5n] }).r0).toBe(0xfffffffffffffffcn);
    expect(vm.run({ args: [0xffffffffffffffffn] }).r0).toBe(0n);
  });
});

describe('register initialization analysis', () => {
  const uncertain = (asm: string, entry: number) => analyzeRegisterInit(prepare(assemble(asm), CONFORMANCE_HELPERS), entry).uncertainReads;

  test.for([
    { name: 'straight line', asm: 'mov %r0, %r1\nexit', entry: 0b10, expected: [] },
    { name: 'r1 not passed', asm: 'mov %r0, %r1\nexit', entry: 0, expected: [0] },
    { name: 'one path', asm: 'jeq %r1, 0, +1\nmov %r0, 1\nexit', entry: 0b10, expected: [2] },
    { name: 'both paths', asm: 'mov %r0, 0\njeq %r1, 0, +1\nmov %r0, 1\nexit', entry: 0b10, expected: [] },
    { name: 'after a helper call r1 is gone', asm: 'call 5\nmov %r0, %r1\nexit', entry: 0b10, expected: [1] },
    { name: 'callee keeps caller args', asm: 'mov %r2, 1\ncall local f\nexit\nf:\nmov %r0, %r2\nexit', entry: 0, expected: [] },
    { name: 'caller r6 survives a call', asm: 'mov %r6, 1\ncall local f\nmov %r0, %r6\nexit\nf:\nmov %r0, 0\nexit', entry: 0, expected: [] },
    { name: 'unreachable code is ignored', asm: 'mov %r0, 0\nexit\nmov %r0, %r9\nexit', entry: 0, expected: [] },
    // Helpers call address-taken functions back with r1..r5 set; callx may pass fewer.
    { name: 'a callback starts with r1-r5', asm: 'lddw %r1, func f\nmov %r0, 0\nexit\nf:\nmov %r0, %r5\nmov %r0, %r6\nexit', entry: 0, expected: [5] },
    { name: 'with callx, only r10', asm: 'lddw %r1, func f\ncall %r1\nexit\nf:\nmov %r0, %r5\nexit', entry: 0, expected: [4] },
  ])('$name', ({ asm, entry, expected }) => {
    expect(uncertain(asm, entry)).toEqual(expected);
  });
});
