// The packet dynptr kfuncs (helpers/kfuncs.ts) on both engines: a program calls them by their
// helper ids, as the loader rewrites a kfunc call. Slices inside the linear part point into the
// packet; slices crossing it (or in a multi-buffer frame's fragments) are copies in the buffer.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { encode } from '../../isa/instruction.js';
import { DynptrHelperId } from '../../helpers/dynptr.js';
import { KfuncId } from '../../helpers/kfuncs.js';
import { Runtime } from '../../runtime/runtime.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';

const EINVAL = 22;
const E2BIG = 7;
/** Byte i of a test packet is i mod 256. */
const packet = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

/** An ELF object with one program written in assembler, in section `section` (XDP by default). */
function objectOf(asm: string, section = 'xdp'): Uint8Array {
  const code = encode(assemble(asm));
  return writeElf({ programs: [{ name: section, code }], functions: [{ name: 'prog', section, offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' });
}

/** Makes a dynptr of the context at fp-16 (r6 keeps the context), jumping to `out` with r0 on failure. */
const makeDynptr = (id: number) => `
    mov %r6, %r1
    mov %r2, 0
    mov %r3, %r10
    add %r3, -16
    call ${id}
    jne %r0, 0, out`;

/** bpf_dynptr_read of `len` bytes at `off` to fp-80: its error, or the last byte read. */
const readProgram = (off: number, len: number, flags = 0) => `${makeDynptr(KfuncId.dynptrFromXdp)}
    mov %r1, %r10
    add %r1, -80
    mov %r2, ${len}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${off}
    mov %r5, ${flags}
    call ${DynptrHelperId.read}
    jne %r0, 0, out
    ldxb %r0, [%r10-${81 - len}]
  out:
    exit`;

/** bpf_dynptr_write of 4 bytes ee ee ee ee at `off`; its result. */
const writeProgram = (from: number, off: number, flags = 0) => `${makeDynptr(from)}
    stw [%r10-80], -286331154
    mov %r1, %r10
    add %r1, -16
    mov %r2, ${off}
    mov %r3, %r10
    add %r3, -80
    mov %r4, 4
    mov %r5, ${flags}
    call ${DynptrHelperId.write}
  out:
    exit`;

/**
 * Makes a dynptr of the frame (with `flags`) and slices [off, off + len): returns 0x10000 + the
 * slice's last byte for a pointer into the packet, 0x20000 + it for the buffer, 0xffff for NULL, and
 * bpf_dynptr_from_xdp's error when it fails and `ignoreError` is not set.
 */
function sliceProgram({ off, len, buffer = true, rdwr = false, flags = 0, ignoreError = false }: { off: number; len: number; buffer?: boolean; rdwr?: boolean; flags?: number; ignoreError?: boolean }): string {
  return `
    mov %r6, %r1
    mov %r2, ${flags}
    mov %r3, %r10
    add %r3, -16
    call ${KfuncId.dynptrFromXdp}
    ${ignoreError ? '' : 'jne %r0, 0, out'}
    mov %r1, %r10
    add %r1, -16
    mov %r2, ${off}
    ${buffer ? 'mov %r3, %r10\n add %r3, -80' : 'mov %r3, 0'}
    mov %r4, ${len}
    call ${rdwr ? KfuncId.dynptrSliceRdwr : KfuncId.dynptrSlice}
    jeq %r0, 0, null
    mov %r7, %r10
    add %r7, -80
    mov %r8, 0x10000
    jne %r0, %r7, direct
    mov %r8, 0x20000
  direct:
    ldxb %r9, [%r0+${len - 1}]
    ${rdwr ? `stb [%r0+0], 0xee` : ''}
    mov %r0, %r8
    or %r0, %r9
    exit
  null:
    mov %r0, 0xffff
  out:
    exit`;
}

describe.each(['interp', 'jit'] as const)('dynptr kfuncs (%s)', (engine) => {
  const run = async (asm: string, dataIn: Uint8Array, ctxIn?: { dataEnd: number }) => {
    const obj = await new Runtime({ engine }).loadObject(objectOf(asm));
    const p = obj.program('prog');
    expect(p.verified, p.verdict.reason).toBe(true);
    return p.testRun({ dataIn, ...(ctxIn ? { ctxIn } : {}) });
  };

  test.for([
    { name: 'inside the linear part: a pointer into the packet', off: 0, len: 14, dataEnd: 20, expected: 0x10000 + 13 },
    { name: 'crossing the linear part: a copy in the buffer', off: 14, len: 20, dataEnd: 20, expected: 0x20000 + 33 },
    { name: 'crossing without a buffer: NULL', off: 14, len: 20, dataEnd: 20, buffer: false, expected: 0xffff },
    { name: 'up to the last byte', off: 44, len: 20, expected: 0x10000 + 63 },
    { name: 'past the end: NULL', off: 45, len: 20, expected: 0xffff },
    { name: 'an offset past the size: NULL', off: 0x7fffffff, len: 1, expected: 0xffff },
  ])('a 64-byte frame, slice $name', async ({ off, len, dataEnd, buffer, expected }) => {
    const r = await run(sliceProgram({ off, len, buffer }), packet(64), dataEnd ? { dataEnd } : undefined);
    expect(r.retval).toBe(expected);
    expect(r.dataOut).toEqual(packet(64));
  });

  test.for([
    // 9000 bytes: 3520 linear, then fragments of 4096 and 1384.
    { name: 'crossing from the linear part into the first fragment', off: 3510, len: 20, expected: 0x20000 + (3529 & 0xff) },
    // Deviation from Linux, which points into a fragment that holds the whole range: here it is copied.
    { name: 'inside a fragment', off: 5000, len: 20, expected: 0x20000 + (5019 & 0xff) },
    { name: 'crossing two fragments', off: 7610, len: 20, expected: 0x20000 + (7629 & 0xff) },
    { name: 'the last bytes', off: 8980, len: 20, expected: 0x20000 + (8999 & 0xff) },
    { name: 'past the end (the dynptr is all 9000 bytes)', off: 8990, len: 20, expected: 0xffff },
  ])('a multi-buffer frame, slice $name', async ({ off, len, expected }) => {
    const r = await run(sliceProgram({ off, len }), packet(9000));
    expect(r.retval).toBe(expected);
    expect(r.dataOut).toEqual(packet(9000));
  });

  test('a writable slice writes the packet where it points into it, and only the buffer where it is a copy', async () => {
    const direct = await run(sliceProgram({ off: 2, len: 8, rdwr: true }), packet(64));
    expect(direct.retval).toBe(0x10000 + 9);
    expect(direct.dataOut[2]).toBe(0xee);
    const copied = await run(sliceProgram({ off: 14, len: 20, rdwr: true }), packet(64), { dataEnd: 20 });
    expect(copied.retval).toBe(0x20000 + 33);
    expect(copied.dataOut).toEqual(packet(64));
  });

  test('flags other than 0 are -EINVAL and leave a null dynptr, whose slices are NULL', async () => {
    expect((await run(sliceProgram({ off: 0, len: 14, flags: 1 }), packet(64))).retval).toBe(-EINVAL >>> 0);
    expect((await run(sliceProgram({ off: 0, len: 14, flags: 1, ignoreError: true }), packet(64))).retval).toBe(0xffff);
  });

  test.for([
    { name: 'within the linear part', off: 10, len: 8, expected: 17 },
    { name: 'across the linear part and a fragment', off: 3510, len: 20, expected: 3529 & 0xff },
    { name: 'the last bytes', off: 8992, len: 8, expected: 8999 & 0xff },
    { name: 'past the end: -E2BIG', off: 8993, len: 8, expected: -E2BIG >>> 0 },
    { name: 'flags: -EINVAL', off: 0, len: 8, flags: 1, expected: -EINVAL >>> 0 },
  ])('bpf_dynptr_read $name', async ({ off, len, flags, expected }) => {
    const obj = await new Runtime({ engine }).loadObject(objectOf(readProgram(off, len, flags)));
    expect(obj.program('prog').testRun({ dataIn: packet(9000) }).retval).toBe(expected);
  });

  test('bpf_dynptr_write stores across a fragment boundary; flags or an out-of-range write change nothing', async () => {
    const run = async (off: number, flags = 0) => {
      const obj = await new Runtime({ engine }).loadObject(objectOf(writeProgram(KfuncId.dynptrFromXdp, off, flags)));
      return obj.program('prog').testRun({ dataIn: packet(9000) });
    };
    const crossing = await run(3518);
    expect(crossing.retval).toBe(0);
    const expected = packet(9000);
    expected.fill(0xee, 3518, 3522);
    expect(crossing.dataOut).toEqual(expected);
    const flagged = await run(0, 1);
    expect(flagged.retval).toBe(-EINVAL >>> 0);
    expect(flagged.dataOut).toEqual(packet(9000));
    const past = await run(8997);
    expect(past.retval).toBe(-E2BIG >>> 0);
    expect(past.dataOut).toEqual(packet(9000));
  });

  test('an skb dynptr is writable in tc programs and read-only in socket filters (bpf_dynptr_write: -EINVAL)', async () => {
    const run = async (section: string) => {
      const obj = await new Runtime({ engine }).loadObject(objectOf(writeProgram(KfuncId.dynptrFromSkb, 20), section));
      return obj.program('prog').testRun({ dataIn: packet(64) });
    };
    const tc = await run('tc');
    expect(tc.retval).toBe(0);
    expect(tc.dataOut.subarray(20, 24)).toEqual(Uint8Array.of(0xee, 0xee, 0xee, 0xee));
    const socket = await run('socket');
    expect(socket.retval).toBe(-EINVAL >>> 0);
  });
});
