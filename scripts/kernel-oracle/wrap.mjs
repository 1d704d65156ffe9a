// Turns a conformance program (r1 = memory, r2 = its length, r0 returned) into an XDP program the
// kernel can load and test-run: a prolog takes the packet from the xdp_md context as the memory,
// and an epilogue stores the full 64-bit r0 into the packet's first 8 bytes (data_out).
// It works on encoded slots, so that invalid programs (reserved fields, bad registers) reach the
// kernel exactly as written.
import { assemble, encode } from '../../dist/index.js';

/** Slot size in bytes. */
const SLOT = 8;
/** Packets shorter than an Ethernet header are refused by BPF_PROG_TEST_RUN for XDP. */
const MIN_PACKET = 14;
// Opcodes and src values of linux/bpf.h that the translation has to recognise in encoded slots.
const LDDW = 0x18;
const JA = 0x05;
const CALL = 0x85;
const CALLX = 0x8d;
const EXIT = 0x95;
const PSEUDO_CALL = 1;
const PSEUDO_FUNC = 4;

/** The packet handed to the kernel: the test memory, padded so r0 fits and the kernel takes it. */
export function packetFor(mem) {
  const packet = new Uint8Array(Math.max(mem.length, MIN_PACKET, SLOT));
  packet.set(mem);
  return packet;
}

// xdp_md: data at offset 0, data_end at offset 4. The check `data + len > data_end` tells the
// verifier exactly `len` bytes (the test memory, not the padding) are there, so it accepts
// [r1+off] below len and refuses accesses past it. Only r1 and r2 are left written (as the suite's
// convention has it), so a test that reads r3-r5 first is still rejected as uninitialized.
const prolog = (ctx, memLength) => `
  mov %${ctx}, %r1
  ldxw %r2, [%${ctx}+4]
  ldxw %r1, [%${ctx}+0]
  add %r1, ${memLength}
  jgt %r1, %r2, done
  add %r1, -${memLength}
  mov %r2, ${memLength}`;

const epilogue = (ctx) => `
epilogue:
  ldxw %r1, [%${ctx}+0]
  ldxw %r2, [%${ctx}+4]
  mov %r3, %r1
  add %r3, 8
  jgt %r3, %r2, done
  stxdw [%r1+0], %r0
done:
  mov %r0, 2
  exit`;

/** The fields of one slot. */
function slotAt(bytes, i) {
  const v = new DataView(bytes.buffer, bytes.byteOffset + i * SLOT, SLOT);
  return { opcode: v.getUint8(0), dst: v.getUint8(1) & 0xf, src: v.getUint8(1) >> 4, off: v.getInt16(2, true), imm: v.getInt32(4, true) };
}

/** Slots of a program, each with its index and whether it is the second half of an lddw. */
function slotsOf(bytes) {
  const slots = [];
  for (let i = 0; i < bytes.length / SLOT; i++) {
    const s = { ...slotAt(bytes, i), pc: i, second: false };
    slots.push(s);
    if (s.opcode === LDDW && i + 1 < bytes.length / SLOT) slots.push({ ...slotAt(bytes, i + 1), pc: ++i, second: true });
  }
  return slots;
}

const isLocalCall = (s) => !s.second && s.opcode === CALL && s.src === PSEUDO_CALL;
const isPlainExit = (s) => !s.second && s.opcode === EXIT && s.dst === 0 && s.src === 0 && s.off === 0 && s.imm === 0;

function setImm(bytes, i, imm) {
  new DataView(bytes.buffer, bytes.byteOffset + i * SLOT, SLOT).setInt32(4, imm, true);
}

/**
 * Splits a program into functions (slot 0 and every in-range local call target) and lays it out as
 * an object: the entry function in section `xdp`, the others in `.text` (libbpf wants subprograms
 * there), calls from `xdp` into `.text` as relocations against function symbols. Jumps inside a
 * function keep their offsets because code is only ever prepended.
 *
 * Two layouts:
 * - inline (when `inline` is allowed and some r6..r9 is never named by the test): that register
 *   holds the context across the test, which runs as the XDP program's main function (so an
 *   8-frame call chain still fits); its plain exits become jumps to the epilogue;
 * - wrapped: the test, unmodified, runs as a subprogram called by a wrapper that keeps the
 *   context in r6; this costs one call frame.
 * @param {Uint8Array} program encoded test program
 * @param {{inline?: boolean, helpers?: boolean}} options inline: allow the inline layout; helpers: pass helper calls through
 * @returns {{ programs: {name: string, code: Uint8Array}[], functions: object[], calls: object[], layout: string }}
 */
export function wrapProgram(program, memLength, { inline = true, helpers = false } = {}) {
  const slots = slotsOf(program);
  const count = program.length / SLOT;
  for (const s of slots) {
    if (s.second) continue;
    // Helper ids are runtime-specific (the suite's helper 5 is not Linux's): only a program that
    // is expected to be refused may pass a helper call through, for the kernel to judge.
    if (s.opcode === CALL && s.src === 0 && !helpers) throw new Error(`calls helper ${s.imm}: not translated`);
    if (s.opcode === CALLX || (s.opcode === LDDW && s.src === PSEUDO_FUNC)) throw new Error('uses function pointers: not translated');
  }
  const targets = slots.filter(isLocalCall).map((s) => s.pc + 1 + s.imm).filter((t) => t > 0 && t < count);
  const starts = [...new Set([0, ...targets])].sort((a, b) => a - b);
  const named = new Set(slots.filter((s) => !s.second).flatMap((s) => [s.dst, s.src]));
  const ctx = inline ? ['r9', 'r8', 'r7', 'r6'].find((r) => !named.has(Number(r.slice(1)))) : undefined;
  const textStart = ctx ? (starts[1] ?? count) : 0;

  const calls = [];
  const functions = [];
  let main;
  if (ctx) {
    const header = assemble(`${prolog(ctx, memLength)}\n  ja body\n${epilogue(ctx)}\nbody:`);
    const headerSlots = header.length;
    const epilogueSlot = header.findIndex((i) => i.opcode === JA) + 1;
    const body = program.slice(0, textStart * SLOT);
    for (const s of slots) {
      if (s.pc >= textStart || s.second) continue;
      const at = headerSlots + s.pc;
      if (isPlainExit(s)) body.set(encode(assemble(`ja ${epilogueSlot - at - 1}`)), s.pc * SLOT);
      if (isLocalCall(s)) {
        const target = s.pc + 1 + s.imm;
        if (target < textStart) throw new Error(`call at slot ${s.pc} back into the entry function: not translated`);
        if (target < count) {
          calls.push({ section: 'xdp', offset: at * SLOT, symbol: `f${target}` });
          setImm(body, s.pc, -1);
        }
      }
    }
    main = new Uint8Array([...encode(header), ...body]);
  } else {
    const header = encode(assemble(`${prolog('r6', memLength)}\n  call local -1\n${epilogue('r6')}`));
    const at = slotsOf(header).findIndex(isLocalCall);
    calls.push({ section: 'xdp', offset: at * SLOT, symbol: 'f0' });
    main = header;
  }
  functions.push({ name: 'main', section: 'xdp', offset: 0, size: main.length, global: true });

  const textStarts = starts.filter((s) => s >= textStart);
  textStarts.forEach((s, k) => {
    const end = textStarts[k + 1] ?? count;
    functions.push({ name: `f${s}`, section: '.text', offset: (s - textStart) * SLOT, size: (end - s) * SLOT, global: false });
  });
  const programs = [{ name: 'xdp', code: main }];
  if (textStart < count) programs.push({ name: '.text', code: program.slice(textStart * SLOT) });
  return { programs, functions, calls, layout: ctx ? 'inline' : 'wrapped' };
}
