// skb frames, helpers and test runs on both engines: the `struct __sk_buff` layout, what each program
// type sees (tc from the MAC header, socket_filter and cgroup_skb from the network header), the
// helpers' limits and errnos (net/core/filter.c) and BPF_PROG_TEST_RUN's input and output rules
// (net/bpf/test_run.c). Expected values marked "Linux" were read from Linux 6.18 with bpftool;
// scripts/kernel-oracle/skb-test-run.mjs checks all of these cases and more against the kernel.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { createExecutor, type EngineName, type Executor } from '../../runtime/engine.js';
import { helperTable } from '../../helpers/table.js';
import { GuestMemory } from '../../runtime/memory.js';
import { Errno } from '../../maps/constants.js';
import { SK_BUFF_SIZE, SkBuffOffset, SkbFrame, decodeSkBuff, encodeSkBuff, flowHash } from '../../runtime/sk-buff.js';
import { SKB_LOOPBACK, SkbRunner, SkbTestRunError, ethTypeTrans, type SkbProgramType, type SkbTestRunOptions } from '../../runtime/skb.js';
import { BODIES } from '../../scripts/kernel-oracle/skb-programs.mjs';

const ENGINES: readonly EngineName[] = ['interp', 'jit'];
const TYPES: readonly SkbProgramType[] = ['socket_filter', 'sched_cls', 'cgroup_skb'];
const EINVAL = -Errno.EINVAL;
const EFAULT = -Errno.EFAULT;
const ENOSPC = -Errno.ENOSPC;

const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const u32 = (n: number) => n >>> 0;

/** A program that keeps the context in r6, runs `body` (result in r0), stores r0 in cb[0] and returns it. */
const program = (body: string) => `
  mov %r6, %r1
  ${body}
out:
  stxw [%r6+48], %r0
  exit`;

async function setup(asm: string, engine: EngineName, runner?: SkbRunner): Promise<{ runner: SkbRunner; exec: Executor }> {
  const r = runner ?? new SkbRunner(new GuestMemory());
  const exec = await createExecutor(assemble(asm), engine, { memory: r.memory, helpers: helperTable(r.helpers) });
  return { runner: r, exec };
}

async function testRun(asm: string, engine: EngineName, type: SkbProgramType, options: SkbTestRunOptions) {
  const { runner, exec } = await setup(asm, engine);
  try {
    return runner.testRun(exec, type, options);
  } finally {
    exec.dispose();
  }
}

/** cb[i] of a ctx_out. */
const cb = (ctxOut: Uint8Array | undefined, i: number) => new DataView(ctxOut!.buffer, ctxOut!.byteOffset).getUint32(SkBuffOffset.cb + 4 * i, true);

describe('struct __sk_buff', () => {
  test('fields sit at their linux/bpf.h offsets in 192 bytes', () => {
    expect(SK_BUFF_SIZE).toBe(192);
    expect(SkBuffOffset).toMatchObject({
      len: 0, mark: 8, protocol: 16, priority: 32, ifindex: 40, tcIndex: 44, cb: 48, hash: 68, tcClassid: 72, data: 76, dataEnd: 80,
      napiId: 84, family: 88, localPort: 136, dataMeta: 140, flowKeys: 144, tstamp: 152, wireLen: 160, gsoSegs: 164, sk: 168,
      gsoSize: 176, tstampType: 180, hwtstamp: 184,
    });
  });

  test('encode and decode round-trip every kind of field', () => {
    const fields = { mark: 7, cb: [1, 2, 3, 4, 0xffffffff], tstamp: 0x1122334455667788n, remoteIp6: [9, 8, 7, 6], tstampType: 3, hwtstamp: 1n };
    const bytes = encodeSkBuff(fields);
    expect(bytes.length).toBe(192);
    expect(bytes[180]).toBe(3);
    expect(decodeSkBuff(bytes)).toMatchObject(fields);
    expect(decodeSkBuff(bytes.subarray(0, 12)).mark).toBe(7);
  });

  test('a frame holds the packet after 64 bytes of headroom; the context points at it with guest addresses', () => {
    const memory = new GuestMemory();
    const tc = SkbFrame.create(memory, pattern(64));
    expect(tc.data - tc.head).toBe(64);
    expect(tc.read()).toMatchObject({ len: 64, data: tc.data, dataEnd: tc.data + 64, dataMeta: tc.data });
    expect(tc.packet()).toEqual(pattern(64));
    const pulled = SkbFrame.create(memory, pattern(64), { pullMacHeader: true, fields: { mark: 5 } });
    expect(pulled.data - pulled.head).toBe(78);
    expect(pulled.read()).toMatchObject({ len: 50, data: pulled.data, dataEnd: pulled.data + 50, mark: 5 });
    expect(pulled.packet()).toEqual(pattern(64).subarray(14));
    expect(() => SkbFrame.create(memory, pattern(13))).toThrow(RangeError);
    expect(() => SkbFrame.create(memory, pattern(3713))).toThrow(RangeError);
  });
});

describe('flow hash', () => {
  /** Ethernet + IPv4 (+ the first 4 bytes of TCP/UDP) from addresses and ports. */
  const v4 = (src: number[], dst: number[], sport: number, dport: number, proto = 17, fragment = 0) => {
    const p = new Uint8Array(14 + 20 + 8);
    p.set([8, 0], 12);
    p.set([0x45, 0, 0, 28, 0, 0, fragment >> 8, fragment & 0xff, 64, proto], 14);
    p.set(src, 26);
    p.set(dst, 30);
    p.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff], 34);
    return p;
  };
  const a = [10, 0, 0, 1];
  const b = [10, 0, 0, 2];
  // Linux orders the addresses and the ports of a flow independently before hashing.
  test('is the same whichever way round addresses and ports are, and differs between flows', () => {
    const h = flowHash(v4(a, b, 1000, 53));
    expect(h).not.toBe(0);
    expect(flowHash(v4(b, a, 1000, 53))).toBe(h);
    expect(flowHash(v4(a, b, 53, 1000))).toBe(h);
    expect(flowHash(v4(b, a, 53, 1000))).toBe(h);
    expect(flowHash(v4(a, b, 1001, 53))).not.toBe(h);
    expect(flowHash(v4(a, b, 1000, 53, 6))).not.toBe(h);
  });

  test('leaves ports out for other protocols and for IPv4 fragments', () => {
    expect(flowHash(v4(a, b, 1, 2, 1))).toBe(flowHash(v4(a, b, 3, 4, 1)));
    expect(flowHash(v4(a, b, 1, 2, 17, 0x2000))).toBe(flowHash(v4(a, b, 3, 4, 17, 0x2000)));
    expect(flowHash(v4(a, b, 1, 2, 17, 0x2000))).not.toBe(flowHash(v4(a, b, 1, 2, 17)));
    expect(flowHash(pattern(64))).not.toBe(0);
  });
});

describe('eth_type_trans', () => {
  const frame = (dest: number[], proto: number, length = 64, sap?: number[]) => {
    const p = pattern(length);
    p.set(dest, 0);
    p.set([proto >> 8, proto & 0xff], 12);
    if (sap) p.set(sap, 14);
    return p;
  };
  // Linux: loopback's address and broadcast address are both zero, so ff:.. is multicast to it.
  test.for([
    { name: 'to us', dest: [0, 0, 0, 0, 0, 0], pktType: 0 },
    { name: 'all ones', dest: [255, 255, 255, 255, 255, 255], pktType: 2 },
    { name: 'multicast', dest: [1, 0, 0x5e, 0, 0, 1], pktType: 2 },
    { name: 'other host', dest: [2, 0, 0, 0, 0, 9], pktType: 3 },
  ])('pkt_type of a frame $name is $pktType', ({ dest, pktType }) => {
    expect(ethTypeTrans(frame(dest, 0x0800), SKB_LOOPBACK).pktType).toBe(pktType);
  });

  test.for([
    { name: 'IPv4', proto: 0x0800, length: 64, protocol: 0x0008 },
    { name: 'IPv6', proto: 0x86dd, length: 64, protocol: 0xdd86 },
    { name: '802.2 LLC', proto: 0x05ff, length: 64, sap: [0xaa, 0xaa], protocol: 0x0400 },
    { name: 'raw 802.3', proto: 0x0040, length: 64, sap: [0xff, 0xff], protocol: 0x0100 },
    { name: 'length field, no SAP bytes', proto: 0x0040, length: 14, protocol: 0x0400 },
  ])('protocol of $name is $protocol as programs read it', ({ proto, length, sap, protocol }) => {
    expect(ethTypeTrans(frame([0, 0, 0, 0, 0, 0], proto, length, sap), SKB_LOOPBACK).protocol).toBe(protocol);
  });
});

describe.each(ENGINES)('skb test run on %s', (engine) => {
  test.for([
    { type: 'socket_filter', len: 50 },
    { type: 'sched_cls', len: 64 },
    { type: 'cgroup_skb', len: 50 },
  ] as const)('$type sees len $len of a 64-byte frame; data_out is the whole frame', async ({ type, len }) => {
    const r = await testRun(program('ldxw %r0, [%r6+0]'), engine, type, { dataIn: pattern(64), repeat: 3 });
    expect(r).toMatchObject({ errno: 0, retval: len, dataSizeOut: 64 });
    // Linux pushes back a zeroed Ethernet header for the types that had it pulled.
    const expected = pattern(64);
    if (type !== 'sched_cls') expected.fill(0, 0, 14);
    expect(r.dataOut).toEqual(expected);
    expect(r.durationNs).toBeGreaterThanOrEqual(0);
  });

  test.for([
    { name: 'protocol', off: 16, value: 0x0008 },
    { name: 'pkt_type', off: 4, value: 0 },
    { name: 'ifindex', off: 40, value: 1 },
    { name: 'ingress_ifindex', off: 36, value: 0 },
    { name: 'hash', off: 68, value: 0 },
    { name: 'napi_id', off: 84, value: 0 },
    { name: 'wire_len without a context', off: 160, value: 0 },
  ])('a fresh skb has $name $value', async ({ off, value }) => {
    const dataIn = pattern(64);
    dataIn.fill(0, 0, 6);
    dataIn.set([8, 0], 12);
    expect((await testRun(program(`ldxw %r0, [%r6+${off}]`), engine, 'sched_cls', { dataIn })).retval).toBe(value);
  });

  const direct = (n: number) => `
    mov %r0, 0
    ldxw %r2, [%r6+76]
    ldxw %r3, [%r6+80]
    mov %r4, %r2
    add %r4, ${n}
    jgt %r4, %r3, out
    ldxb %r0, [%r2+${n - 1}]`;
  test.for([
    { type: 'sched_cls', n: 1, retval: 1 },
    { type: 'sched_cls', n: 60, retval: pattern(60)[59] },
    { type: 'sched_cls', n: 61, retval: 0 },
    { type: 'cgroup_skb', n: 1, retval: pattern(60)[14] },
    { type: 'cgroup_skb', n: 46, retval: pattern(60)[59] },
    { type: 'cgroup_skb', n: 47, retval: 0 },
  ] as const)('$type reads byte $n through data/data_end: $retval', async ({ type, n, retval }) => {
    expect((await testRun(program(direct(n)), engine, type, { dataIn: pattern(60) })).retval).toBe(retval);
  });

  const loadBytes = (off: number, len: number): string => BODIES.loadBytes(off, len);
  // Linux: offsets count from skb->data; on failure the buffer is zeroed.
  test.for([
    { type: 'sched_cls', off: 0, len: 8, ret: 0, bytes: pattern(64).subarray(0, 8) },
    { type: 'socket_filter', off: 0, len: 8, ret: 0, bytes: pattern(64).subarray(14, 22) },
    { type: 'cgroup_skb', off: 42, len: 8, ret: 0, bytes: pattern(64).subarray(56, 64) },
    { type: 'socket_filter', off: 43, len: 8, ret: EFAULT, bytes: new Uint8Array(8) },
    { type: 'sched_cls', off: 56, len: 8, ret: 0, bytes: pattern(64).subarray(56, 64) },
    { type: 'sched_cls', off: 57, len: 8, ret: EFAULT, bytes: new Uint8Array(8) },
    { type: 'sched_cls', off: 0x7fffffff, len: 1, ret: EFAULT, bytes: Uint8Array.from([0, 0x5a, 0x5a, 0x5a, 0, 0, 0, 0]) },
    { type: 'sched_cls', off: 0x80000000, len: 1, ret: EFAULT, bytes: Uint8Array.from([0, 0x5a, 0x5a, 0x5a, 0, 0, 0, 0]) },
  ] as const)('$type load_bytes $off/$len -> $ret', async ({ type, off, len, ret, bytes }) => {
    const r = await testRun(program(loadBytes(off, len)), engine, type, { dataIn: pattern(64), ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(cb(r.ctxOut, 0)).toBe(u32(ret));
    expect(r.ctxOut!.subarray(52, 60)).toEqual(bytes);
  });

  const storeBytes = (off: number, len: number, flags: number) => `
    stdw [%r10-16], -1414812757
    stdw [%r10-8], -1414812757
    mov %r1, %r6
    lddw %r2, ${off}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    mov %r5, ${flags}
    call 9`;
  test.for([
    { off: 0, len: 16, flags: 0, ret: 0 },
    { off: 10, len: 4, flags: 1, ret: 0 },
    { off: 48, len: 16, flags: 0, ret: 0 },
    { off: 49, len: 16, flags: 0, ret: EFAULT },
    { off: 63, len: 1, flags: 2, ret: 0 },
    { off: 64, len: 1, flags: 0, ret: EFAULT },
    { off: 0, len: 4, flags: 4, ret: EINVAL },
    { off: 0x80000000, len: 1, flags: 0, ret: EFAULT },
  ])('store_bytes $off/$len flags $flags -> $ret', async ({ off, len, flags, ret }) => {
    const r = await testRun(program(storeBytes(off, len, flags)), engine, 'sched_cls', { dataIn: pattern(64) });
    expect(r.retval).toBe(u32(ret));
    const expected = pattern(64);
    if (ret === 0) expected.set(Uint8Array.from({ length: len }, (_, i) => (i % 8 < 4 ? 0xab : 0xff)), off);
    expect(r.dataOut).toEqual(expected);
  });

  test('store_bytes with BPF_F_INVALIDATE_HASH clears the hash', async () => {
    const asm = program(`${storeBytes(0, 4, 2)}\n ldxw %r0, [%r6+68]`);
    const { runner, exec } = await setup(asm, engine);
    const frame = runner.createFrame(pattern(64), { fields: { hash: 0x1234 } });
    expect(runner.run(exec, frame)).toBe(0);
    runner.release(frame);
    exec.dispose();
  });

  const loadRelative = (off: number, len: number, start: number) => loadBytes(off, len).replace('call 26', `mov %r5, ${start}\n call 68`);
  // Linux: start 0 is the MAC header, 1 the network header, whatever skb->data is; the end is the packet's.
  test.for([
    { type: 'socket_filter', off: 0, len: 8, start: 0, ret: 0, bytes: pattern(64).subarray(0, 8) },
    { type: 'sched_cls', off: 0, len: 8, start: 1, ret: 0, bytes: pattern(64).subarray(14, 22) },
    { type: 'cgroup_skb', off: 56, len: 8, start: 0, ret: 0, bytes: pattern(64).subarray(56, 64) },
    { type: 'sched_cls', off: 57, len: 8, start: 0, ret: EFAULT, bytes: new Uint8Array(8) },
    { type: 'socket_filter', off: 43, len: 8, start: 1, ret: EFAULT, bytes: new Uint8Array(8) },
    { type: 'sched_cls', off: 0, len: 4, start: 2, ret: EFAULT, bytes: new Uint8Array(8) },
    { type: 'sched_cls', off: 0x10000, len: 1, start: 0, ret: EFAULT, bytes: Uint8Array.from([0, 0x5a, 0x5a, 0x5a, 0, 0, 0, 0]) },
  ] as const)('$type load_bytes_relative $off/$len from header $start -> $ret', async ({ type, off, len, start, ret, bytes }) => {
    const r = await testRun(program(loadRelative(off, len, start)), engine, type, { dataIn: pattern(64), ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(cb(r.ctxOut, 0)).toBe(u32(ret));
    expect(r.ctxOut!.subarray(52, 60)).toEqual(bytes);
  });

  const ctxArg = (id: number, arg: number) => program(`mov %r1, %r6\n lddw %r2, ${arg}\n call ${id}`);
  test.for([
    { name: 'skb_pull_data(0)', id: 39, arg: 0, ret: 0 },
    { name: 'skb_pull_data(64)', id: 39, arg: 64, ret: 0 },
    { name: 'skb_pull_data(65)', id: 39, arg: 65, ret: -Errno.ENOMEM },
    { name: 'csum_update', id: 40, arg: 0x1234, ret: -Errno.ENOTSUPP },
    { name: 'csum_level(QUERY) under CHECKSUM_NONE', id: 135, arg: 0, ret: -Errno.EACCES },
    { name: 'csum_level(4)', id: 135, arg: 4, ret: EINVAL },
  ])('$name -> $ret', async ({ id, arg, ret }) => {
    expect((await testRun(ctxArg(id, arg), engine, 'sched_cls', { dataIn: pattern(64) })).retval).toBe(u32(ret));
  });

  // Result i goes to cb[1 + min(i, 3)].
  const levels = (ls: number[]) => program(ls.map((l, i) => `mov %r1, %r6\n mov %r2, ${l}\n call 135\n stxw [%r6+${52 + 4 * Math.min(i, 3)}], %r0`).join('\n'));
  // Linux: INC turns CHECKSUM_NONE into UNNECESSARY at level 0 and counts up to 3; DEC at 0 and RESET go back to NONE.
  test.for([
    { ls: [1, 0], results: [0, 0] },
    { ls: [1, 1, 1, 1, 1, 0], results: [0, 0, 0, 3] },
    { ls: [1, 1, 2, 0], results: [0, 0, 0, 0] },
    { ls: [1, 2, 0], results: [0, 0, u32(-Errno.EACCES)] },
    { ls: [1, 3, 0], results: [0, 0, u32(-Errno.EACCES)] },
  ])('csum_level $ls -> $results', async ({ ls, results }) => {
    const r = await testRun(levels(ls), engine, 'sched_cls', { dataIn: pattern(64), ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(results.map((_, i) => cb(r.ctxOut, 1 + i))).toEqual(results.map((x) => u32(x)));
  });

  test('get_hash_recalc computes skb->hash once; set_hash and set_hash_invalid replace and clear it', async () => {
    const asm = program(`
      mov %r1, %r6
      call 34
      stxw [%r6+52], %r0
      mov %r1, %r6
      mov %r2, 7
      call 48
      mov %r1, %r6
      call 34
      stxw [%r6+56], %r0
      mov %r1, %r6
      call 41
      ldxw %r1, [%r6+68]
      stxw [%r6+60], %r1
      mov %r1, %r6
      call 34`);
    const r = await testRun(asm, engine, 'sched_cls', { dataIn: pattern(64), ctxIn: encodeSkBuff({}), ctxOut: true });
    const h = flowHash(pattern(64));
    expect(decodeSkBuff(r.ctxOut!).cb).toEqual([h, h, 7, 0, 0]);
  });

  test('get_socket_uid: 0 for the test run\'s dummy socket, the overflow uid without a socket', async () => {
    const { runner, exec } = await setup(program('mov %r1, %r6\n call 47'), engine);
    expect(runner.testRun(exec, 'cgroup_skb', { dataIn: pattern(64) }).retval).toBe(0);
    const frame = runner.createFrame(pattern(64));
    expect(runner.run(exec, frame)).toBe(65534);
    runner.release(frame);
    exec.dispose();
  });

  const csumReplace = (id: number, off: number, from: number, to: number, flags: number) =>
    program(`mov %r1, %r6\n mov %r2, ${off}\n lddw %r3, ${from}\n lddw %r4, ${to}\n mov %r5, ${flags}\n call ${id}`);
  // Linux (x86-64, CHECKSUM_NONE): the checksum at offset 40 before and after. l3 with a 2-byte field
  // computes in 16 bits, l4 widens to 32 bits, so they differ on which zero comes out.
  test.for([
    { id: 10, check: 0x0000, from: 0, to: 0x12345678, flags: 0, ret: 0, out: 0x9753 },
    { id: 10, check: 0x1234, from: 0x4000, to: 0x0040, flags: 2, ret: 0, out: 0x51f4 },
    { id: 10, check: 0xffff, from: 0xffff, to: 0, flags: 2, ret: 0, out: 0xffff },
    { id: 11, check: 0xffff, from: 0xffff, to: 0, flags: 2, ret: 0, out: 0x0000 },
    { id: 10, check: 0xfffe, from: 0x12345678, to: 0x87654321, flags: 4, ret: 0, out: 0x9e24 },
    { id: 11, check: 0x1234, from: 0, to: 0x12345678, flags: 0x10, ret: 0, out: 0xa987 },
    { id: 11, check: 0x0000, from: 0x1234, to: 0x1234, flags: 0x24, ret: 0, out: 0x0000 },
    { id: 11, check: 0x0000, from: 0x1234, to: 0x1234, flags: 0x64, ret: 0, out: 0xffff },
    { id: 11, check: 0xffff, from: 0xffff, to: 0, flags: 0x22, ret: 0, out: 0xffff },
    { id: 11, check: 0x0000, from: 1, to: 1, flags: 0x33, ret: 0, out: 0x0000 },
    { id: 11, check: 0x1234, from: 1, to: 1, flags: 0x33, ret: EINVAL, out: 0x1234 },
    { id: 10, check: 0x1234, from: 1, to: 2, flags: 0x10, ret: EINVAL, out: 0x1234 },
    { id: 11, check: 0x1234, from: 1, to: 2, flags: 0x100, ret: EINVAL, out: 0x1234 },
    { id: 10, check: 0x1234, from: 1, to: 2, flags: 0, ret: EINVAL, out: 0x1234 },
  ])('helper $id on check $check: $from -> $to, flags $flags -> $ret, $out', async ({ id, check, from, to, flags, ret, out }) => {
    const dataIn = pattern(64);
    dataIn[40] = check & 0xff;
    dataIn[41] = check >> 8;
    const r = await testRun(csumReplace(id, 40, from, to, flags), engine, 'sched_cls', { dataIn });
    expect(r.retval).toBe(u32(ret));
    expect(r.dataOut[40]! | (r.dataOut[41]! << 8)).toBe(out);
  });

  test.for([
    { id: 10, off: 41, ret: EFAULT },
    { id: 10, off: 62, ret: 0 },
    { id: 10, off: 64, ret: EFAULT },
    { id: 11, off: 0x10000, ret: EFAULT },
  ])('helper $id at offset $off -> $ret', async ({ id, off, ret }) => {
    const r = await testRun(csumReplace(id, off, 1, 2, 2), engine, 'sched_cls', { dataIn: pattern(64) });
    expect(r.retval).toBe(u32(ret));
  });

  test.for([
    { ifindex: 1, flags: 0, retval: 7 },
    { ifindex: 99999, flags: 1, retval: 7 },
    { ifindex: 1, flags: 2, retval: 2 },
  ])('redirect($ifindex, $flags) -> $retval, recorded but not carried out', async ({ ifindex, flags, retval }) => {
    const r = await testRun(program(`mov %r1, ${ifindex}\n mov %r2, ${flags}\n call 23`), engine, 'sched_cls', { dataIn: pattern(64) });
    expect(r.retval).toBe(retval);
    expect(r.dataOut).toEqual(pattern(64));
    expect(r.redirect).toEqual(retval === 7 ? { ifindex, flags: BigInt(flags) } : undefined);
  });

  test('every test run has a socket with a fresh, non-zero cookie', async () => {
    const asm = program('mov %r1, %r6\n call 46');
    const { runner, exec } = await setup(asm, engine);
    const a = runner.testRun(exec, 'socket_filter', { dataIn: pattern(64) }).retval;
    const b = runner.testRun(exec, 'cgroup_skb', { dataIn: pattern(64) }).retval;
    expect(a).not.toBe(0);
    expect(b).not.toBe(a);
    const frame = runner.createFrame(pattern(64));
    expect(runner.run(exec, frame)).toBe(0);
    runner.release(frame);
    exec.dispose();
  });

  const sockFields = (offs: number[]) => program(`
    ldxdw %r7, [%r6+168]
    mov %r0, 57005
    jeq %r7, 0, out
    ${offs.map((o, i) => `ldxw %r1, [%r7+${o}]\n stxw [%r6+${52 + 4 * i}], %r1`).join('\n')}
    mov %r0, 1`);
  const withEtherType = (proto: number, length: number) => {
    const p = pattern(length);
    p.set([proto >> 8, proto & 0xff], 12);
    return p;
  };
  // Linux: the dummy socket takes its family and addresses from the IP header; state TCP_CLOSE, no rx queue.
  test.for(TYPES)('%s sees the test run\'s dummy socket through __sk_buff->sk', async (type) => {
    const v4 = withEtherType(0x0800, 64);
    const r = await testRun(sockFields([4, 24, 52, 72]), engine, type, { dataIn: v4, ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(r.ctxOut!.subarray(52, 68)).toEqual(Uint8Array.from([2, 0, 0, 0, ...v4.subarray(26, 34), 7, 0, 0, 0]));
    const v6 = withEtherType(0x86dd, 80);
    const s = await testRun(sockFields([4, 76, 28, 68]), engine, type, { dataIn: v6, ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(s.ctxOut!.subarray(52, 68)).toEqual(Uint8Array.from([10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, ...v6.subarray(22, 26), ...v6.subarray(50, 54)]));
    const other = await testRun(sockFields([4, 0, 72, 76]), engine, type, { dataIn: pattern(64), ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(decodeSkBuff(other.ctxOut!).cb).toEqual([1, 0, 0, 7, 0xffffffff]);
  });

  test.for([
    { proto: 0x0800, length: 33, ok: false },
    { proto: 0x0800, length: 34, ok: true },
    { proto: 0x86dd, length: 53, ok: false },
    { proto: 0x86dd, length: 54, ok: true },
    { proto: 0x0806, length: 15, ok: true },
  ])('EtherType $proto with $length bytes: accepted $ok (Linux 6.18 wants room for the IP header)', async ({ proto, length, ok }) => {
    const run = testRun(program('mov %r0, 0'), engine, 'sched_cls', { dataIn: withEtherType(proto, length) });
    if (ok) await expect(run).resolves.toMatchObject({ errno: 0 });
    else await expect(run).rejects.toMatchObject({ errno: EINVAL });
  });

  test.for([
    { type: 'socket_filter', op: 'ldabsb 0', retval: 99 },
    { type: 'sched_cls', op: 'ldabsb 0', retval: 1 },
    { type: 'socket_filter', op: 'ldabsw 46', retval: u32(-1515408454) },
    { type: 'socket_filter', op: 'ldabsw 47', retval: 0 },
    { type: 'sched_cls', op: 'ldabsw 60', retval: u32(-1515408454) },
    { type: 'sched_cls', op: 'ldabsw 61', retval: 0 },
    { type: 'sched_cls', op: 'ldabsb 64', retval: 0 },
    // Linux: SKF_LL_OFF (-0x200000) counts from the MAC header, SKF_NET_OFF (-0x100000) from the network header.
    { type: 'socket_filter', op: 'ldabsb -0x200000', retval: 1 },
    { type: 'sched_cls', op: 'ldabsb -0x200000', retval: 1 },
    { type: 'socket_filter', op: 'ldabsb -0x1fffc1', retval: 186 },
    { type: 'socket_filter', op: 'ldabsb -0x1fffc0', retval: 0 },
    { type: 'socket_filter', op: 'ldabsw -0xfffd2', retval: u32(-1515408454) },
    { type: 'sched_cls', op: 'ldabsw -0xfffd2', retval: u32(-1515408454) },
    { type: 'sched_cls', op: 'ldabsw -0xfffd1', retval: 0 },
    { type: 'sched_cls', op: 'ldabsb -0x200001', retval: 0 },
    { type: 'sched_cls', op: 'ldabsb -0x100001', retval: 0 },
    { type: 'sched_cls', op: 'ldabsw -0x1000', retval: 0 },
    { type: 'socket_filter', op: 'lddw %r7, -0x100000\n ldindh %r7, 0', retval: 25450 },
  ] as const)('$type $op -> $retval (legacy loads count from skb->data, or from a header)', async ({ type, op, retval }) => {
    expect((await testRun(`${op}\n exit`, engine, type, { dataIn: pattern(64) })).retval).toBe(retval);
  });

  test.for(TYPES)('%s: writable fields come back in ctx_out; the others are the skb\'s', async (type) => {
    const writes = type === 'socket_filter' ? 'stw [%r6+52], 7' : 'stw [%r6+52], 7\n stw [%r6+8], 305419896\n stw [%r6+32], 1000\n stdw [%r6+152], 123456789';
    const ctxIn = encodeSkBuff({ mark: 7, priority: 9, ingressIfindex: 42, cb: [1, 2, 3, 4, 5], tstamp: 5n, hwtstamp: 6n, gsoSegs: 3, gsoSize: 1400, wireLen: 100 });
    const r = await testRun(program(`${writes}\n mov %r0, 1`), engine, type, { dataIn: pattern(64), ctxIn, ctxOut: true });
    const out = decodeSkBuff(r.ctxOut!);
    // Linux: ifindex comes back as loopback's 1; gso_size stays as given though the skb keeps it too.
    expect(out).toMatchObject({ ingressIfindex: 42, ifindex: 1, cb: [1, 7, 3, 4, 5], hwtstamp: 6n, gsoSegs: 3, gsoSize: 1400, wireLen: 100, len: 0, data: 0 });
    if (type === 'socket_filter') expect(out).toMatchObject({ mark: 7, priority: 9, tstamp: 5n });
    else expect(out).toMatchObject({ mark: 305419896, priority: 1000, tstamp: 123456789n });
  });

  test('repeats share one skb: cb and mark count up; u16 fields are narrowed between runs', async () => {
    const asm = program(`
      ldxw %r0, [%r6+52]
      ldxw %r1, [%r6+72]
      add %r0, %r1
      add %r0, 1
      stxw [%r6+52], %r0
      ldxw %r1, [%r6+8]
      add %r1, 2
      stxw [%r6+8], %r1
      stw [%r6+72], 65538
      stw [%r6+12], 65535`);
    const r = await testRun(asm, engine, 'sched_cls', { dataIn: pattern(64), ctxIn: encodeSkBuff({}), ctxOut: true, repeat: 3 });
    // Linux: tc_classid is a u16, so runs 2 and 3 read 2 back; a queue_mapping of 0xffff is ignored.
    expect(decodeSkBuff(r.ctxOut!)).toMatchObject({ mark: 6, cb: [7, 7, 0, 0, 0] });
  });

  test('ctx_out without ctx_in starts from a zeroed context (as the kernel does; bpftool cannot ask for it)', async () => {
    const r = await testRun(program('ldxw %r0, [%r6+0]'), engine, 'sched_cls', { dataIn: pattern(64), ctxOut: true });
    expect(decodeSkBuff(r.ctxOut!)).toMatchObject({ ifindex: 1, wireLen: 64, cb: [64, 0, 0, 0, 0] });
  });

  test.for([
    { dataSizeOut: 0, errno: 0, out: 64 },
    { dataSizeOut: 64, errno: 0, out: 64 },
    { dataSizeOut: 32, errno: ENOSPC, out: 32 },
  ])('data_size_out $dataSizeOut -> errno $errno, $out bytes, and ctx_out only without truncation', async ({ dataSizeOut, errno, out }) => {
    const r = await testRun(program('mov %r0, 0'), engine, 'sched_cls', { dataIn: pattern(64), dataSizeOut, ctxIn: encodeSkBuff({}), ctxOut: true });
    expect(r).toMatchObject({ errno, dataSizeOut: 64 });
    expect(r.dataOut).toEqual(pattern(64).subarray(0, out));
    expect(r.ctxOut === undefined).toBe(errno !== 0);
  });

  test('a short ctx_size_out truncates ctx_out with -ENOSPC', async () => {
    const r = await testRun(program('mov %r0, 0'), engine, 'sched_cls', { dataIn: pattern(64), ctxIn: encodeSkBuff({ mark: 3 }), ctxOut: true, ctxSizeOut: 16 });
    expect(r.errno).toBe(ENOSPC);
    expect(r.ctxOut).toEqual(encodeSkBuff({ mark: 3 }).subarray(0, 16));
  });

  // Linux 6.18's answers for each program type (the same for all three unless noted).
  test.for([
    { name: 'data_in shorter than ETH_HLEN', size: 13, errno: EINVAL },
    { name: 'data_in past a page less headroom and tailroom', size: 3713, errno: EINVAL },
    { name: 'len set', size: 64, ctx: { len: 1 }, errno: EINVAL },
    { name: 'tstamp_type set', size: 64, ctx: { tstampType: 1 }, errno: EINVAL },
    { name: 'data_end set (6.18 has no non-linear test runs)', size: 64, ctx: { dataEnd: 20 }, errno: EINVAL },
    { name: 'tc_index set', size: 64, ctx: { tcIndex: 1 }, errno: EINVAL },
    { name: 'sk set', size: 64, ctx: { sk: 1n }, errno: EINVAL },
    { name: 'gso_segs past 65535', size: 64, ctx: { gsoSegs: 65536 }, errno: EINVAL },
    { name: 'wire_len past 65536', size: 64, ctx: { wireLen: 65537 }, errno: EINVAL },
    { name: 'wire_len below tc\'s len', size: 64, ctx: { wireLen: 63 }, errno: EINVAL, type: 'sched_cls' },
    { name: 'unknown device', size: 64, ctx: { ifindex: 99999 }, errno: -Errno.ENODEV },
    { name: 'non-zero bytes past __sk_buff', size: 64, bytes: Uint8Array.from([...encodeSkBuff({}), 0, 1]), errno: -Errno.E2BIG },
    { name: 'unknown flags', size: 64, flags: 1, errno: EINVAL },
  ] as const)('refuses $name', async ({ size, ctx, bytes, errno, flags, ...rest }) => {
    const type: SkbProgramType = ('type' in rest ? rest.type : undefined) ?? 'socket_filter';
    const run = testRun(program('mov %r0, 0'), engine, type, { dataIn: pattern(size), ctxIn: bytes ?? (ctx ? encodeSkBuff(ctx) : undefined), ctxOut: true, flags });
    await expect(run).rejects.toThrow(SkbTestRunError);
    await expect(run).rejects.toMatchObject({ errno });
  });

  test.for([
    { type: 'socket_filter', wireLen: 50 },
    { type: 'cgroup_skb', wireLen: 63 },
    { type: 'sched_cls', wireLen: 64 },
  ] as const)('$type accepts wire_len $wireLen (not below its own len)', async ({ type, wireLen }) => {
    const r = await testRun(program('mov %r0, 0'), engine, type, { dataIn: pattern(64), ctxIn: encodeSkBuff({ wireLen }), ctxOut: true });
    expect(decodeSkBuff(r.ctxOut!).wireLen).toBe(wireLen);
  });


  // Linux: with BPF_F_TEST_SKB_CHECKSUM_COMPLETE, skb->csum covers the network header to the end
  // (csum_update(0) returns it), and a run that leaves it stale fails with -EBADMSG.
  const CHECKSUM_COMPLETE = 4;
  test.for([
    { name: 'csum_update(0) on 64 bytes', asm: ctxArg(40, 0), size: 64, retval: 3733647508 },
    { name: 'csum_update(0) on 63 bytes', asm: ctxArg(40, 0), size: 63, retval: 3733599892 },
    { name: 'csum_update(0x10000)', asm: ctxArg(40, 0x10000), size: 64, errno: -74 },
    { name: 'a direct write past the MAC header', asm: program(direct(40).replace('ldxb %r0, [%r2+39]', 'stb [%r2+39], 238\n mov %r0, 1')), size: 60, errno: -74 },
    { name: 'a direct write in the MAC header', asm: program(direct(6).replace('ldxb %r0, [%r2+5]', 'stb [%r2+5], 238\n mov %r0, 1')), size: 60, retval: 1 },
    { name: 'store_bytes without BPF_F_RECOMPUTE_CSUM', asm: program(storeBytes(20, 4, 0)), size: 64, errno: -74 },
    { name: 'store_bytes with BPF_F_RECOMPUTE_CSUM', asm: program(storeBytes(20, 4, 1)), size: 64, retval: 0 },
    { name: 'store_bytes at an odd offset', asm: program(storeBytes(21, 3, 1)), size: 64, retval: 0 },
    { name: 'store_bytes recomputing over the MAC header', asm: program(storeBytes(0, 4, 1)), size: 64, errno: -74 },
    { name: 'csum_level(INC) then QUERY', asm: levels([1, 0]), size: 64, retval: u32(-Errno.EACCES) },
  ])('checksum complete: $name', async ({ asm, size, retval, errno }) => {
    const run = testRun(asm, engine, 'sched_cls', { dataIn: pattern(size), flags: CHECKSUM_COMPLETE });
    if (errno) await expect(run).rejects.toMatchObject({ errno });
    else expect((await run).retval).toBe(retval);
  });

  test.for(TYPES)('%s: checksum complete, an untouched packet passes; flag 8 is refused', async (type) => {
    await expect(testRun(program('mov %r0, 0'), engine, type, { dataIn: pattern(64), flags: CHECKSUM_COMPLETE })).resolves.toMatchObject({ errno: 0 });
    await expect(testRun(program('mov %r0, 0'), engine, type, { dataIn: pattern(64), flags: 8 })).rejects.toMatchObject({ errno: EINVAL });
  });

  test('a device named in ctx_in decides ifindex and pkt_type', async () => {
    const memory = new GuestMemory();
    const address = Uint8Array.from([2, 0, 0, 0, 0, 9]);
    const runner = new SkbRunner(memory, { devices: [{ ifindex: 5, address }, { ifindex: 6 }] });
    const { exec } = await setup(program('ldxw %r0, [%r6+4]'), engine, runner);
    const dataIn = pattern(64);
    dataIn.set(address, 0);
    const r = runner.testRun(exec, 'sched_cls', { dataIn, ctxIn: encodeSkBuff({ ifindex: 5 }), ctxOut: true });
    expect(r.retval).toBe(0);
    expect(decodeSkBuff(r.ctxOut!).ifindex).toBe(5);
    dataIn.fill(0xff, 0, 6);
    expect(runner.testRun(exec, 'sched_cls', { dataIn, ctxIn: encodeSkBuff({ ifindex: 5 }) }).retval).toBe(1);
    // A device given without addresses has 00:00:00:00:00:00 and the Ethernet broadcast address.
    expect(runner.testRun(exec, 'sched_cls', { dataIn, ctxIn: encodeSkBuff({ ifindex: 6 }) }).retval).toBe(1);
    dataIn.fill(0, 0, 6);
    expect(runner.testRun(exec, 'sched_cls', { dataIn, ctxIn: encodeSkBuff({ ifindex: 6 }) }).retval).toBe(0);
    exec.dispose();
  });

  test('frames are released after a run', async () => {
    const { runner, exec } = await setup(program('mov %r0, 0'), engine);
    runner.testRun(exec, 'sched_cls', { dataIn: pattern(64) }); // the interpreter allocates its stack on the first run
    const before = runner.memory.regions().length;
    runner.testRun(exec, 'cgroup_skb', { dataIn: pattern(64) });
    expect(() => runner.testRun(exec, 'sched_cls', { dataIn: pattern(10) })).toThrow(SkbTestRunError);
    expect(runner.memory.regions().length).toBe(before);
    exec.dispose();
  });
});

test('the both engine replays checksum state kept with the frame', async () => {
  const asm = program(['mov %r1, %r6\n mov %r2, 1\n call 135', 'mov %r1, %r6\n mov %r2, 1\n call 135', 'mov %r1, %r6\n mov %r2, 0\n call 135'].join('\n'));
  const { runner, exec } = await setup(asm, 'both');
  // Linux: INC from CHECKSUM_NONE gives level 0, the next INC level 1, on every run of the same skb one more (up to 3).
  expect(runner.testRun(exec, 'sched_cls', { dataIn: pattern(64) }).retval).toBe(1);
  expect(runner.testRun(exec, 'sched_cls', { dataIn: pattern(64), repeat: 2 }).retval).toBe(3);
  exec.dispose();
});

test('the both engine agrees on packets changed by helpers', async () => {
  const asm = program(`
    stdw [%r10-8], -1
    mov %r1, %r6
    mov %r2, 20
    mov %r3, %r10
    add %r3, -8
    mov %r4, 8
    mov %r5, 0
    call 9
    mov %r1, %r6
    mov %r2, 40
    mov %r3, 0
    mov %r4, 287454020
    mov %r5, 0
    call 11`);
  const { runner, exec } = await setup(asm, 'both');
  const r = runner.testRun(exec, 'sched_cls', { dataIn: pattern(64), repeat: 2 });
  expect(r.retval).toBe(0);
  expect(r.dataOut.subarray(20, 28)).toEqual(new Uint8Array(8).fill(0xff));
  exec.dispose();
});
