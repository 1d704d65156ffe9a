// XDP frames, helpers and test runs on both engines: the kernel's frame layout, each helper's limits
// and errnos (net/core/filter.c), metadata and head interplay, and BPF_PROG_TEST_RUN's output rules
// (net/bpf/test_run.c). scripts/kernel-oracle/xdp-test-run.mjs checks the same against Linux.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { createExecutor, type EngineKind, type Executor } from '../../runtime/engine.js';
import { helperTable } from '../../helpers/table.js';
import { GuestMemory } from '../../runtime/memory.js';
import { Errno } from '../../maps/constants.js';
import { PacketFrame, XDP_FRAME_RESERVED, XDP_MD_SIZE, XdpMdOffset } from '../../runtime/packet-frame.js';
import { XdpRunner, XdpTestRunError, encodeXdpMd, type XdpTestRunOptions } from '../../runtime/xdp.js';
import { PROGRAMS } from '../../scripts/kernel-oracle/xdp-programs.mjs';

const ENGINES: readonly EngineKind[] = ['interp', 'jit'];
const EINVAL = -Errno.EINVAL;
const EACCES = -Errno.EACCES;
const EFAULT = -Errno.EFAULT;
const ENOSPC = -Errno.ENOSPC;

const packet = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const md = (f: Partial<Parameters<typeof encodeXdpMd>[0]>) =>
  encodeXdpMd({ data: 0, dataEnd: 64, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0, ...f });
/** A helper's u32 retval for an errno, as the kernel reports r0. */
const u32 = (n: number) => n >>> 0;

/** Builds a runner and an executor of `asm` on `engine` with the runner's helpers. */
async function setup(asm: string, engine: EngineKind): Promise<{ runner: XdpRunner; exec: Executor }> {
  const memory = new GuestMemory();
  const runner = new XdpRunner(memory);
  const exec = await createExecutor(assemble(asm), engine, { memory, helpers: helperTable(runner.helpers) });
  return { runner, exec };
}

async function testRun(asm: string, engine: EngineKind, options: XdpTestRunOptions) {
  const { runner, exec } = await setup(asm, engine);
  try {
    return runner.testRun(exec, options);
  } finally {
    exec.dispose();
  }
}

const callWith = (id: number, delta: number) => `mov %r6, %r1\n mov %r2, ${delta}\n call ${id}\n exit`;

describe('packet frame layout', () => {
  test('a frame is 4096 bytes: 256 of headroom, the packet, and tailroom short of skb_shared_info', () => {
    const memory = new GuestMemory();
    const frame = PacketFrame.create(memory, packet(64));
    expect(frame.region.end - frame.region.start).toBe(4096);
    expect(frame.data - frame.hardStart).toBe(256);
    expect(frame.dataEnd - frame.data).toBe(64);
    expect(frame.dataMeta).toBe(frame.data);
    expect(frame.hardEnd - frame.hardStart).toBe(4096 - 320);
    expect(frame.headLimit - frame.hardStart).toBe(XDP_FRAME_RESERVED);
    expect(frame.packet()).toEqual(packet(64));
  });

  test('the context is struct xdp_md with guest addresses in its pointer fields', () => {
    const memory = new GuestMemory();
    const frame = PacketFrame.create(memory, packet(72), { metaLength: 8, ingressIfindex: 3, rxQueueIndex: 2 });
    const v = memory.view;
    const at = (o: number) => v.getUint32(frame.ctx + o, true);
    expect(frame.ctxRegion.end - frame.ctxRegion.start).toBe(XDP_MD_SIZE);
    expect(at(XdpMdOffset.data)).toBe(frame.hardStart + 256);
    expect(at(XdpMdOffset.dataMeta)).toBe(frame.hardStart + 248);
    expect(at(XdpMdOffset.dataEnd)).toBe(frame.hardStart + 256 + 64);
    expect([at(XdpMdOffset.ingressIfindex), at(XdpMdOffset.rxQueueIndex), at(XdpMdOffset.egressIfindex)]).toEqual([3, 2, 0]);
    expect(frame.metadata()).toEqual(packet(72).subarray(0, 8));
    expect(frame.packet()).toEqual(packet(72).subarray(8));
  });

  test('a recycled frame shows nothing of its last packet: before the new one, and past its end to a program the verifier did not check', () => {
    const memory = new GuestMemory();
    const runner = new XdpRunner(memory);
    const long = runner.receiveFrame(packet(200, 9), 1, 0);
    long.beforeRun(true);
    runner.release(long);
    const short = runner.receiveFrame(packet(60), 1, 0);
    expect(short).toBe(long);
    expect(short.packet()).toEqual(packet(60));
    // A verified program cannot read past data_end: the stale bytes are left there until one that may runs.
    short.beforeRun(false);
    expect(memory.bytes.subarray(short.dataEnd, short.hardEnd).every((b) => b === 0)).toBe(true);
    runner.release(short);
    // A packet with metadata, then one without: the bytes before the new data_meta are zeroed.
    const meta = runner.createFrame(packet(72, 5), { metaLength: 8 });
    meta.beforeRun(true);
    runner.release(meta);
    const plain = runner.receiveFrame(packet(64), 1, 0);
    expect(memory.bytes.subarray(plain.hardStart, plain.dataMeta).every((b) => b === 0)).toBe(true);
    expect(plain.packet()).toEqual(packet(64));
  });

  test('refuses packets that do not fit the linear frame', () => {
    const memory = new GuestMemory();
    expect(() => PacketFrame.create(memory, packet(3520))).not.toThrow();
    expect(() => PacketFrame.create(memory, packet(3521))).toThrow(RangeError);
    expect(() => PacketFrame.create(memory, packet(300), { metaLength: 220 })).toThrow(RangeError);
  });
});

describe.each(ENGINES)('XDP helpers on %s', (engine) => {
  // r0 is the helper's result; data_out shows what it did. Sizes are for a 64-byte packet.
  test.for([
    { delta: 0, ret: 0, size: 64 },
    { delta: 14, ret: 0, size: 50 },
    { delta: 50, ret: 0, size: 14 },
    { delta: 51, ret: EINVAL, size: 64 },
    { delta: -216, ret: 0, size: 280 },
    { delta: -217, ret: EINVAL, size: 64 },
  ])('adjust_head $delta -> $ret, $size bytes', async ({ delta, ret, size }) => {
    const r = await testRun(callWith(44, delta), engine, { dataIn: packet(64) });
    expect(r.retval).toBe(u32(ret));
    expect(r.dataOut.length).toBe(size);
    if (delta > 0 && ret === 0) expect(r.dataOut).toEqual(packet(64).subarray(delta));
    if (delta < 0 && ret === 0) expect(r.dataOut.subarray(-delta)).toEqual(packet(64));
  });

  test.for([
    { delta: -4, ret: 0, size: 68 },
    { delta: -32, ret: 0, size: 96 },
    { delta: -36, ret: 0, size: 100 },
    { delta: -212, ret: 0, size: 276 },
    { delta: -216, ret: 0, size: 280 },
    { delta: -217, ret: EINVAL, size: 64 },
    { delta: -3, ret: EACCES, size: 64 },
    { delta: 4, ret: EINVAL, size: 64 },
    { delta: 0, ret: 0, size: 64 },
  ])('adjust_meta $delta -> $ret, $size bytes out', async ({ delta, ret, size }) => {
    const r = await testRun(callWith(54, delta), engine, { dataIn: packet(64) });
    expect(r.retval).toBe(u32(ret));
    expect(r.dataOut.length).toBe(size);
  });

  test.for([
    { delta: -50, ret: 0, size: 14 },
    { delta: -51, ret: EINVAL, size: 64 },
    { delta: 100, ret: 0, size: 164 },
    { delta: 3456, ret: 0, size: 3520 },
    { delta: 3457, ret: EINVAL, size: 64 },
  ])('adjust_tail $delta -> $ret, $size bytes', async ({ delta, ret, size }) => {
    const r = await testRun(callWith(65, delta), engine, { dataIn: packet(64) });
    expect(r.retval).toBe(u32(ret));
    expect(r.dataOut.length).toBe(size);
    expect(r.dataOut.subarray(0, Math.min(size, 64))).toEqual(packet(64).subarray(0, Math.min(size, 64)));
    // Growth is zero-filled.
    if (size > 64) expect(r.dataOut.subarray(64).every((b) => b === 0)).toBe(true);
  });

  test.for([
    { m: -8, h: -8, ret: 0 },
    { m: -8, h: 40, ret: 0 },
    { m: -8, h: 51, ret: EINVAL },
    { m: -32, h: -184, ret: 0 },
    { m: -32, h: -185, ret: EINVAL },
  ])('metadata moves with adjust_head: meta $m then head $h -> $ret', async ({ m, h, ret }) => {
    const asm = PROGRAMS.metaHead(m, h);
    const r = await testRun(asm, engine, { dataIn: packet(64) });
    expect(r.retval).toBe(u32(ret));
    // data_out starts at data_meta: the metadata word, the rest of the metadata, then the packet.
    expect([...r.dataOut.subarray(0, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    const meta = -m;
    const moved = ret === 0 ? h : 0;
    expect(r.dataOut.length).toBe(meta + 64 - moved);
    if (moved >= 0) expect(r.dataOut.subarray(meta)).toEqual(packet(64).subarray(moved));
  });

  const loadStore = (off: number, len: number): string => PROGRAMS.loadStore(off, len);

  test.for([
    { off: 0, len: 16, ret: 0 },
    { off: 48, len: 16, ret: 0 },
    { off: 49, len: 16, ret: EINVAL },
    { off: 64, len: 1, ret: EINVAL },
    { off: 65535, len: 1, ret: EINVAL },
    { off: 65536, len: 1, ret: EFAULT },
    { off: -1, len: 4, ret: EFAULT },
  ])('load_bytes $off/$len then store_bytes at 0 -> $ret', async ({ off, len, ret }) => {
    const r = await testRun(loadStore(off, len), engine, { dataIn: packet(64) });
    expect(r.retval).toBe(u32(ret));
    const expected = packet(64);
    if (ret === 0) expected.set(packet(64).subarray(off, off + len), 0);
    expect(r.dataOut).toEqual(expected);
  });

  test('store_bytes bounds', async () => {
    const store = (off: number, len: number) => `mov %r6, %r1\n stdw [%r10-16], -1\n mov %r2, ${off}\n mov %r3, %r10\n add %r3, -16\n mov %r4, ${len}\n call 190\n exit`;
    const ok = await testRun(store(60, 4), engine, { dataIn: packet(64) });
    expect(ok.retval).toBe(0);
    expect([...ok.dataOut.subarray(60)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect((await testRun(store(61, 4), engine, { dataIn: packet(64) })).retval).toBe(u32(EINVAL));
    expect((await testRun(store(0x10000, 2), engine, { dataIn: packet(64) })).retval).toBe(u32(EFAULT));
  });

  test('programs read the context with plain loads', async () => {
    // ingress_ifindex | rx_queue_index << 8 | (data - data_meta) << 16
    const asm: string = PROGRAMS.fields();
    expect((await testRun(asm, engine, { dataIn: packet(64) })).retval).toBe(1);
    const memory = new GuestMemory();
    const runner = new XdpRunner(memory, { devices: [{ ifindex: 1, rxQueues: 1 }, { ifindex: 7, rxQueues: 4 }] });
    const exec = await createExecutor(assemble(asm), engine, { memory, helpers: helperTable(runner.helpers) });
    const r = runner.testRun(exec, { dataIn: packet(64), ctxIn: md({ data: 8, ingressIfindex: 7, rxQueueIndex: 3 }), ctxOut: true });
    expect(r.retval).toBe(7 | (3 << 8) | (8 << 16));
    expect(r.ctxOut).toEqual(md({ data: 8, ingressIfindex: 7, rxQueueIndex: 3 }));
    exec.dispose();
  });
});

describe.each(ENGINES)('XDP test run on %s', (engine) => {
  const pass: string = PROGRAMS.pass();

  test('data_out is data_meta..data_end, retval the last r0, duration averaged', async () => {
    const r = await testRun(pass, engine, { dataIn: packet(100), repeat: 3 });
    expect(r).toMatchObject({ errno: 0, retval: 2, dataSizeOut: 100 });
    expect(r.dataOut).toEqual(packet(100));
    expect(r.durationNs).toBeGreaterThanOrEqual(0);
    expect(r.ctxOut).toBeUndefined();
  });

  test.for([
    { dataSizeOut: 0, errno: 0, out: 64 },
    { dataSizeOut: 80, errno: 0, out: 64 },
    { dataSizeOut: 64, errno: 0, out: 64 },
    { dataSizeOut: 32, errno: ENOSPC, out: 32 },
  ])('data_size_out $dataSizeOut -> errno $errno, $out bytes', async ({ dataSizeOut, errno, out }) => {
    const r = await testRun(pass, engine, { dataIn: packet(64), dataSizeOut });
    expect(r.errno).toBe(errno);
    expect(r.retval).toBe(2);
    expect(r.dataSizeOut).toBe(64);
    expect(r.dataOut).toEqual(packet(64).subarray(0, out));
  });

  test('a truncated data_out leaves ctx_out unwritten; a short ctx_size_out truncates it', async () => {
    const a = await testRun(callWith(65, 1), engine, { dataIn: packet(64), dataSizeOut: 64, ctxIn: md({}), ctxOut: true });
    expect(a).toMatchObject({ errno: ENOSPC, retval: 0, dataSizeOut: 65 });
    expect(a.ctxOut).toBeUndefined();
    const b = await testRun(pass, engine, { dataIn: packet(64), ctxIn: md({}), ctxOut: true, ctxSizeOut: 8 });
    expect(b.errno).toBe(ENOSPC);
    expect(b.ctxOut).toEqual(md({}).subarray(0, 8));
  });

  test.for([
    { name: 'repeat 5 of head +2', asm: callWith(44, 2), repeat: 5, size: 54, retval: 0 },
    { name: 'repeat 3 of tail +10', asm: callWith(65, 10), repeat: 3, size: 94, retval: 0 },
    { name: 'repeat 40 of head -8 runs out of headroom', asm: callWith(44, -8), repeat: 40, size: 64 + 27 * 8, retval: u32(EINVAL) },
  ])('$name: runs share one buffer', async ({ asm, repeat, size, retval }) => {
    const r = await testRun(asm, engine, { dataIn: packet(64), repeat });
    expect(r.retval).toBe(retval);
    expect(r.dataOut.length).toBe(size);
  });

  test('a long repeat runs every time, on one buffer, reporting progress between runs', async () => {
    // Counts its runs in the packet's first word and returns the count.
    const counter = `ldxw %r2, [%r1+0]\n ldxw %r3, [%r1+4]\n mov %r4, %r2\n add %r4, 4\n jgt %r4, %r3, +4
      ldxw %r0, [%r2+0]\n add %r0, 1\n stxw [%r2+0], %r0\n exit\n mov %r0, 0\n exit`;
    const progress: number[] = [];
    const r = await testRun(counter, engine, { dataIn: new Uint8Array(64), repeat: 140_000, onProgress: (done) => progress.push(done) });
    expect(r.retval).toBe(140_000);
    expect(new DataView(r.dataOut.buffer, r.dataOut.byteOffset).getUint32(0, true)).toBe(140_000);
    expect(progress).toEqual([65_536, 131_072]);
  });

  test('ctx_in metadata comes first in data_in and is reported back', async () => {
    const r = await testRun(callWith(44, -8), engine, { dataIn: packet(64), ctxIn: { data: 8, dataEnd: 64 }, ctxOut: true });
    expect(r.retval).toBe(0);
    expect(r.dataOut.subarray(0, 8)).toEqual(packet(64).subarray(0, 8));
    expect(r.dataOut.subarray(16)).toEqual(packet(64).subarray(8));
    expect(r.ctxOut).toEqual(md({ data: 8, dataEnd: 72, ingressIfindex: 0 }));
  });

  test('XDP_TX and XDP_REDIRECT are reported, not carried out', async () => {
    for (const action of [3, 4]) {
      const r = await testRun(`mov %r0, ${action}\n exit`, engine, { dataIn: packet(64) });
      expect(r.retval).toBe(action);
      expect(r.dataOut).toEqual(packet(64));
    }
  });

  test.for([
    { name: 'data_in shorter than ETH_HLEN', dataIn: 13, errno: EINVAL },
    { name: 'ctx_out without ctx_in', dataIn: 64, ctxOut: true, errno: EINVAL },
    { name: 'data_meta set', dataIn: 64, ctxIn: md({ dataMeta: 4, data: 4 }), errno: EINVAL },
    { name: 'data_end past data_in', dataIn: 64, ctxIn: md({ dataEnd: 65 }), errno: EINVAL },
    { name: 'metadata not 4-byte aligned', dataIn: 64, ctxIn: md({ data: 3 }), errno: EINVAL },
    { name: 'metadata into the xdp_frame area', dataIn: 300, ctxIn: md({ data: 220, dataEnd: 300 }), errno: EINVAL },
    { name: 'egress_ifindex set', dataIn: 64, ctxIn: md({ egressIfindex: 1 }), errno: EINVAL },
    { name: 'rx queue without a device', dataIn: 64, ctxIn: md({ rxQueueIndex: 1 }), errno: EINVAL },
    { name: 'rx queue the device lacks', dataIn: 64, ctxIn: md({ ingressIfindex: 1, rxQueueIndex: 1 }), errno: EINVAL },
    { name: 'unknown device', dataIn: 64, ctxIn: md({ ingressIfindex: 99 }), errno: -Errno.ENODEV },
    { name: 'non-zero bytes past xdp_md', dataIn: 64, ctxIn: Uint8Array.from([...md({}), 0, 1]), errno: -Errno.E2BIG },
  ])('refuses $name with $errno', async ({ dataIn, ctxIn, ctxOut, errno }) => {
    const run = testRun(pass, engine, { dataIn: packet(dataIn), ctxIn, ctxOut });
    await expect(run).rejects.toThrow(XdpTestRunError);
    await expect(run).rejects.toMatchObject({ errno });
  });

  test.for([
    { name: 'one byte past the linear part', dataIn: 3521, linear: 3520 },
    { name: 'a jumbo frame', dataIn: 9000, linear: 3520 },
    // Linux 6.18: 4,100 and 8,200-byte packets pass on a plain xdp program too, with data_end at the linear part's end.
    { name: '4,100 bytes', dataIn: 4100, linear: 3520 },
    { name: '8,200 bytes', dataIn: 8200, linear: 3520 },
    { name: 'data_end before the end of data_in', dataIn: 64, ctxIn: md({ dataEnd: 60 }), linear: 60 },
    { name: 'data_end past metadata', dataIn: 5000, ctxIn: md({ data: 8, dataEnd: 100 }), linear: 92 },
  ])('input past the linear part becomes fragments: $name', async ({ dataIn, ctxIn, linear }) => {
    const r = await testRun(PROGRAMS.buffLen(), engine, { dataIn: packet(dataIn), ctxIn });
    const meta = ctxIn ? 8 * Number(dataIn === 5000) : 0;
    expect(r.retval).toBe(((linear << 16) | (dataIn - meta)) >>> 0);
    expect(r.dataOut).toEqual(packet(dataIn));
  });

  test('load and store bytes reach across fragments; adjust_tail grows the last fragment and shrinks from the end', async () => {
    // 3520 linear bytes, then a fragment of 4096 and one of 1384.
    const big = packet(9000);
    const loaded = await testRun(PROGRAMS.loadStore(3510, 16), engine, { dataIn: big });
    expect(loaded.dataOut.subarray(0, 16)).toEqual(big.subarray(3510, 3526));
    const stored = await testRun(PROGRAMS.store(7610, 16), engine, { dataIn: big });
    expect(stored.dataOut.subarray(7610, 7626)).toEqual(Uint8Array.from([0xab, 0xab, 0xab, 0xab, 0xff, 0xff, 0xff, 0xff, 0xab, 0xab, 0xab, 0xab, 0xff, 0xff, 0xff, 0xff]));
    expect((await testRun(PROGRAMS.loadStore(8990, 11), engine, { dataIn: big })).retval).toBe(u32(EINVAL));
    // The last fragment holds 1384 of its 4096 bytes: 2712 more fit.
    expect((await testRun(PROGRAMS.tailLen(2712), engine, { dataIn: big })).retval).toBe(9000 + 2712);
    expect((await testRun(PROGRAMS.tailLen(2713), engine, { dataIn: big })).retval).toBe(u32(EINVAL));
    // Shrinking frees emptied fragments, then takes from the linear part.
    expect((await testRun(PROGRAMS.tailLen(-1384), engine, { dataIn: big })).retval).toBe(9000 - 1384);
    const shrunk = await testRun(PROGRAMS.tailLen(-5500), engine, { dataIn: big });
    expect(shrunk.retval).toBe(3500);
    expect(shrunk.dataOut).toEqual(big.subarray(0, 3500));
    expect((await testRun(PROGRAMS.tailLen(-(9000 - 13)), engine, { dataIn: big })).retval).toBe(u32(EINVAL));
  });

  test('more fragments than a frame holds is -ENOMEM', async () => {
    const max = 3520 + 17 * 4096;
    expect((await testRun(pass, engine, { dataIn: packet(max) })).dataOut.length).toBe(max);
    await expect(testRun(pass, engine, { dataIn: packet(max + 1) })).rejects.toMatchObject({ errno: -Errno.ENOMEM });
  });

  test('frames are released after a run', async () => {
    const { runner, exec } = await setup(pass, engine);
    runner.testRun(exec, { dataIn: packet(64) }); // the interpreter allocates its stack on the first run
    const before = runner.memory.regions().length;
    runner.testRun(exec, { dataIn: packet(64) });
    expect(() => runner.testRun(exec, { dataIn: packet(10) })).toThrow(XdpTestRunError);
    expect(runner.memory.regions().length).toBe(before);
    exec.dispose();
  });
});

test('the both engine agrees on frames moved by helpers', async () => {
  const memory = new GuestMemory();
  const runner = new XdpRunner(memory);
  const exec = await createExecutor(assemble(callWith(44, 4)), 'both', { memory, helpers: helperTable(runner.helpers) });
  const r = runner.testRun(exec, { dataIn: packet(64), repeat: 2 });
  expect(r.retval).toBe(0);
  expect(r.dataOut).toEqual(packet(64).subarray(8));
  exec.dispose();
});
