// The socket helpers on both engines: the C fixture's cgroup_skb programs give in a test run what
// Linux 6.18 gave (scripts/kernel-oracle/sk-storage.mjs checks the same against the kernel), storage
// on the test run's dummy socket lasts across repeats and goes with the run, tc and XDP programs
// look up the runtime's sockets, and bad use (leaked or foreign references, bad arguments) gives
// Linux's NULL or errno, or a typed error where only the verifier would have stopped it.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { decodeSkBuff, encodeSkBuff } from '../../runtime/sk-buff.js';
import { SocketReferenceError } from '../../runtime/sockets.js';
import { buildPacket } from '../../net/packets.js';
import { HelperCall } from '../../helpers/table.js';
import { SocketHelperId } from '../../helpers/sockets.js';
import { Errno, MapType } from '../../maps/constants.js';
import { assemble } from '../../isa/assembler.js';
import { encode } from '../../isa/instruction.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

const ENGINES = ['interp', 'jit'] as const;
const FIXTURE = join(PROJECT_ROOT, 'tests', 'fixtures', 'sk_storage.o');
const TCP = buildPacket({ proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, payload: 'hello' });
const ENOENT = 2 ** 32 - Errno.ENOENT;

/** An object with one program in `section`, written in assembler. */
function objectOf(asm: string, section: string): Uint8Array {
  const code = encode(assemble(asm));
  return writeElf({ programs: [{ name: section, code }], functions: [{ name: 'prog', section, offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' });
}

/** A tuple of bpf_sock_tuple.ipv4 on the stack at r10-`at` (saddr, daddr, sport, dport as the packet has them), then a lookup. */
const lookupAsm = (helper: number, size = 12, at = 16) => `
  mov %r6, %r1
  stw [%r10-${at}], 0x0100000a
  stw [%r10-${at - 4}], 0x0200000a
  sth [%r10-${at - 8}], 0x409c
  sth [%r10-${at - 10}], 0x5000
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -${at}
  mov %r3, ${size}
  mov %r4, -1
  mov %r5, 0
  call ${helper}`;

describe.each(ENGINES)('socket helpers on %s', (engine) => {
  const load = async () => {
    const rt = new Runtime({ engine });
    return { rt, obj: await rt.loadObject(FIXTURE) };
  };
  const run = (obj: Awaited<ReturnType<typeof load>>['obj'], name: string, dataIn = TCP, repeat = 3) => {
    const r = obj.program(name).testRun({ dataIn, ctxIn: encodeSkBuff({}), ctxOut: true, repeat });
    const ctx = decodeSkBuff(r.ctxOut!);
    return { retval: r.retval, cb: ctx.cb, mark: ctx.mark, priority: ctx.priority };
  };

  // What Linux 6.18 answered for the same object and packet (bpftool prog run ... repeat 3).
  test.for([
    ['count', { retval: 1, cb: [3, 135, 0, 0, 0], mark: 0, priority: 0 }],
    ['tag', { retval: 1, cb: [0x100 + 45 + 2, 0, 0, 0, 0], mark: 0, priority: 0 }],
    ['cases', { retval: 1, cb: [0, ENOENT, 0, 8, 0], mark: ENOENT, priority: 0 }],
    ['sock_fields', { retval: 1, cb: [2, 0x0100000a, 0x0200000a, 0, 0], mark: 7 | (0 << 8) | (0 << 16), priority: 1 }],
  ] as const)('cgroup_skb %s on the test run\'s dummy socket, as Linux answers', async ([name, expected]) => {
    const { obj } = await load();
    expect(run(obj, name)).toEqual(expected);
  });

  test('storage on the dummy socket lasts across repeats and goes with the test run', async () => {
    const { rt, obj } = await load();
    // A first run lets the engine allocate what it keeps (the interpreter's stack and register file).
    run(obj, 'count', TCP, 1);
    const regions = rt.memory.regions().length;
    expect(run(obj, 'count', TCP, 5).cb.slice(0, 2)).toEqual([5, 225]);
    // A new test run has a new dummy socket: counting starts again.
    expect(run(obj, 'count', TCP, 1).cb.slice(0, 2)).toEqual([1, 45]);
    expect(obj.map('counters').size).toBe(0);
    expect(rt.memory.regions().length).toBe(regions);
  });

  test('an IPv6 packet gives the dummy socket AF_INET6 and its addresses', async () => {
    const { obj } = await load();
    const v6 = buildPacket({ ipVersion: 6, proto: 'udp', src: 'fd00::1', dst: 'fd00::2' });
    expect(run(obj, 'sock_fields', v6, 1).cb[0]).toBe(10);
  });

  test('tc finds the runtime\'s sockets by tuple, counts in their storage, and bad arguments find nothing', async () => {
    const { rt, obj } = await load();
    expect(run(obj, 'lookup', TCP, 1).cb).toEqual([0, 0, 0, 0, 0]);
    const listener = rt.sockets.open({ protocol: 'tcp', local: '*:80' });
    expect(run(obj, 'lookup', TCP, 2).cb).toEqual([1, 80, 10, 2, 0]);
    const connected = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    expect(run(obj, 'lookup', TCP, 1).cb).toEqual([1, 80, 1, 1, 0]);
    const udp = rt.sockets.open({ protocol: 'udp', local: '10.0.0.2:53' });
    expect(run(obj, 'lookup', buildPacket({ proto: 'udp', src: '10.0.0.1', dst: '10.0.0.2', dstPort: 53 }), 1).cb).toEqual([1, 53, 7, 1, 0]);
    // The storage stays on the live sockets, by cookie.
    expect(obj.typedMap('counters').dump()).toEqual([
      { key: Number(listener.cookie), value: { packets: 2, bytes: 0 } },
      { key: Number(connected.cookie), value: { packets: 1, bytes: 0 } },
      { key: Number(udp.cookie), value: { packets: 1, bytes: 0 } },
    ]);
    expect([listener, connected, udp].map((s) => s.references)).toEqual([0, 0, 0]);
  });

  test('XDP looks sockets up on the receiving interface', async () => {
    const { rt, obj } = await load();
    const eth1 = rt.network.addInterface({ name: 'eth1' });
    rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000', interface: 'eth1' });
    const xdp = obj.program('xdp_lookup');
    const on = (dataIn: Uint8Array, ingressIfindex: number) => xdp.testRun({ dataIn, ctxIn: { ingressIfindex, dataEnd: dataIn.length } }).retval;
    // Without ctx_in the test run receives on lo, where the socket bound to eth1 is not found: XDP_DROP.
    expect(xdp.testRun({ dataIn: TCP }).retval).toBe(1);
    expect(on(TCP, 1)).toBe(1);
    expect(on(TCP, eth1.ifindex)).toBe(2);
    expect(on(buildPacket({ proto: 'tcp', dstPort: 81 }), eth1.ifindex)).toBe(1);
  });

  test('a TIME_WAIT socket: bpf_sk_lookup_tcp skips it, bpf_skc_lookup_tcp returns it, bpf_sk_fullsock refuses it', async () => {
    const rt = new Runtime({ engine });
    rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000', state: 'time_wait' });
    const probe = (helper: number) => `${lookupAsm(helper)}
      mov %r0, %r0
      jeq %r0, 0, none
      mov %r7, %r0
      mov %r1, %r0
      call ${SocketHelperId.skFullsock}
      mov %r8, %r0
      mov %r1, %r7
      call ${SocketHelperId.skRelease}
      mov %r0, 1
      jeq %r8, 0, out
      mov %r0, 2
      ja out
    none:
      mov %r0, 0
    out:
      stxw [%r6+48], %r0
      mov %r0, 0
      exit`;
    for (const [helper, expected] of [[SocketHelperId.skLookupTcp, 0], [SocketHelperId.skcLookupTcp, 1]] as const) {
      const obj = await rt.loadObject(objectOf(probe(helper), 'tc'), { fileName: `probe${helper}.o` });
      const r = obj.program('prog').testRun({ dataIn: TCP, ctxIn: encodeSkBuff({}), ctxOut: true });
      expect(decodeSkBuff(r.ctxOut!).cb[0]).toBe(expected);
    }
  });

  test('a program that keeps a looked-up socket, or releases one it does not hold, is refused; unverified, it stops with SocketReferenceError', async () => {
    const rt = new Runtime({ engine });
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    const leakAsm = `${lookupAsm(SocketHelperId.skLookupTcp)}\n mov %r0, 0\n exit`;
    const twiceAsm = `${lookupAsm(SocketHelperId.skLookupTcp)}
      mov %r7, %r0
      mov %r1, %r0
      call ${SocketHelperId.skRelease}
      mov %r1, %r7
      call ${SocketHelperId.skRelease}
      mov %r0, 0
      exit`;
    const foreignAsm = `mov %r1, %r10\n add %r1, -8\n call ${SocketHelperId.skRelease}\n exit`;
    // The verifier refuses all three, as Linux does.
    const refused = async (asm: string, fileName: string) => (await rt.loadObject(objectOf(asm, 'tc'), { fileName })).failures.get('prog')?.message;
    expect(await refused(leakAsm, 'leak.o')).toMatch(/Unreleased reference id=\d+ alloc_insn=11/);
    expect(await refused(twiceAsm, 'twice.o')).toMatch(/R1 type=sock_or_null expected=/);
    expect(await refused(foreignAsm, 'foreign.o')).toMatch(/R1 type=fp expected=/);
    if (engine !== 'interp') return;
    // The checked interpreter may run them unverified: the socket table stops them at run time.
    const unverified = async (asm: string, fileName: string) => rt.loadObject(objectOf(asm, 'tc'), { fileName, unsafeSkipVerification: true });
    const leak = await unverified(leakAsm, 'leak.o');
    expect(() => leak.program('prog').testRun({ dataIn: TCP })).toThrow(SocketReferenceError);
    expect(() => leak.program('prog').testRun({ dataIn: TCP })).toThrow(/ended holding a reference .* without bpf_sk_release/);
    // From inside a helper the engine wraps the error, naming the helper and pc; the cause is the SocketReferenceError.
    const causeOf = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        return (err as { cause?: unknown }).cause;
      }
      return undefined;
    };
    const twice = await unverified(twiceAsm, 'twice.o');
    expect(() => twice.program('prog').testRun({ dataIn: TCP })).toThrow(/pc \d+: helper bpf_sk_release failed: bpf_sk_release of tcp 10\.0\.0\.2:80 .* holds no reference/);
    expect(causeOf(() => twice.program('prog').testRun({ dataIn: TCP }))).toBeInstanceOf(SocketReferenceError);
    const foreign = await unverified(foreignAsm, 'foreign.o');
    expect(causeOf(() => foreign.program('prog').testRun({ dataIn: TCP }))).toBeInstanceOf(SocketReferenceError);
    // Nothing is left held after the failures.
    expect([s.references, rt.sockets.heldReferences]).toEqual([0, 0]);
  });

  test('lookups from tc with a zero tuple size, or a tuple size of neither family, find nothing', async () => {
    const rt = new Runtime({ engine });
    rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    for (const size of [0, 11, 13, 36]) {
      // The tuple sits 40 bytes down, so that the verifier lets the lookup read 36 bytes of stack.
      const obj = await rt.loadObject(objectOf(`${lookupAsm(SocketHelperId.skLookupTcp, size, 40)}
        jeq %r0, 0, out
        mov %r1, %r0
        call ${SocketHelperId.skRelease}
        mov %r0, 1
      out:
        exit`, 'tc'), { fileName: `size${size}.o` });
      // 36 is the IPv6 size: the bytes on the stack are then read as an IPv6 tuple, which matches no socket.
      expect(obj.program('prog').testRun({ dataIn: TCP }).retval).toBe(0);
    }
  });
});

describe('socket helpers called directly (the paths the verifier closes)', () => {
  const setup = () => {
    const rt = new Runtime();
    const regs = rt.memory.allocate(96, 'register file').start;
    const call = new HelperCall(rt.memory, regs);
    const table = rt.helpersFor('sched_cls');
    const invoke = (id: number, ...args: (number | bigint)[]) => {
      args.forEach((a, i) => rt.memory.view.setBigUint64(regs + 8 * (i + 1), BigInt.asUintN(64, BigInt(a)), true));
      table.get(id)!.impl(call);
      return rt.memory.view.getBigInt64(regs, true);
    };
    const storage = rt.createMap({ type: MapType.SK_STORAGE, name: 's', keySize: 4, valueSize: 8, maxEntries: 0, flags: 1, btfKeyTypeId: 1, btfValueTypeId: 2, btfKeyInt: { bits: 32, bitOffset: 0 } });
    const hash = rt.createMap({ type: MapType.HASH, name: 'h', keySize: 4, valueSize: 8, maxEntries: 4 });
    return { rt, invoke, storage: rt.mapHandle(storage), hash: rt.mapHandle(hash) };
  };

  test('bpf_sk_storage_get: NULL for no socket, a socket that is not full, a map that is no socket storage, or flags above F_CREATE', () => {
    const { rt, invoke, storage, hash } = setup();
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' });
    const tw = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:2', state: 'time_wait' });
    expect(invoke(SocketHelperId.skStorageGet, storage, 0, 0, 1)).toBe(0n);
    expect(invoke(SocketHelperId.skStorageGet, storage, tw.address, 0, 1)).toBe(0n);
    expect(invoke(SocketHelperId.skStorageGet, hash, s.address, 0, 1)).toBe(0n);
    expect(invoke(SocketHelperId.skStorageGet, storage, s.address, 0, 2)).toBe(0n);
    expect(invoke(SocketHelperId.skStorageGet, storage, s.address, 0, 1n << 32n)).toBe(0n);
    expect(invoke(SocketHelperId.skStorageGet, storage, s.address, 0, 0)).toBe(0n);
    expect(invoke(SocketHelperId.skStorageGet, storage, s.address, 0, 1)).not.toBe(0n);
  });

  test('bpf_sk_storage_delete: -EINVAL without a full socket, -ENOENT without a value, then 0', () => {
    const { rt, invoke, storage } = setup();
    const s = rt.sockets.open({ protocol: 'udp', local: '*:53' });
    const tw = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:2', state: 'time_wait' });
    expect(invoke(SocketHelperId.skStorageDelete, storage, 0)).toBe(BigInt(-Errno.EINVAL));
    expect(invoke(SocketHelperId.skStorageDelete, storage, tw.address)).toBe(BigInt(-Errno.EINVAL));
    expect(invoke(SocketHelperId.skStorageDelete, storage, s.address)).toBe(BigInt(-Errno.ENOENT));
    invoke(SocketHelperId.skStorageGet, storage, s.address, 0, 1);
    expect(invoke(SocketHelperId.skStorageDelete, storage, s.address)).toBe(0n);
  });

  test('bpf_sk_fullsock and bpf_get_listener_sock', () => {
    const { rt, invoke } = setup();
    const listener = rt.sockets.open({ protocol: 'tcp', local: '*:80' });
    const connected = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' });
    expect(invoke(SocketHelperId.skFullsock, connected.address)).toBe(BigInt(connected.address));
    expect(invoke(SocketHelperId.skFullsock, 12345)).toBe(0n);
    expect(invoke(SocketHelperId.getListenerSock, listener.address)).toBe(BigInt(listener.address));
    expect(invoke(SocketHelperId.getListenerSock, connected.address)).toBe(0n);
  });

  test('a lookup needs a live frame behind ctx, flags 0 and the current namespace', () => {
    const { rt, invoke } = setup();
    rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    const frame = rt.skb.createFrame(TCP, { fields: { ifindex: 1 } });
    const tuple = rt.memory.allocate(12, 'tuple').start;
    rt.memory.bytes.set([10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0, 80], tuple);
    const lookup = (ctx: number, netns: bigint, flags = 0) => {
      const r = invoke(SocketHelperId.skLookupTcp, ctx, tuple, 12, netns, flags);
      if (r !== 0n) invoke(SocketHelperId.skRelease, r);
      return r !== 0n;
    };
    expect(lookup(frame.ctx, -1n)).toBe(true);
    // Any negative s32 in the low half names the current namespace; a namespace id finds nothing here.
    expect(lookup(frame.ctx, 0xffffffffn)).toBe(true);
    expect(lookup(frame.ctx, 0n)).toBe(false);
    expect(lookup(frame.ctx, 0x100000000n)).toBe(false);
    expect(lookup(frame.ctx, -1n, 1)).toBe(false);
    expect(lookup(tuple, -1n)).toBe(false);
    rt.skb.release(frame);
  });
});

describe('which program types get the socket helpers, with Linux\'s prototypes', () => {
  const ids = [84, 85, 86, 95, 98, 99, 107, 108];
  test('tc and cgroup_skb get all of them, XDP the lookups and release, socket filters none', () => {
    const rt = new Runtime();
    const has = (type: 'sched_cls' | 'cgroup_skb' | 'xdp' | 'socket_filter') => ids.filter((id) => rt.helpersFor(type).has(id));
    expect(has('sched_cls')).toEqual(ids);
    expect(has('cgroup_skb')).toEqual(ids);
    expect(has('xdp')).toEqual([84, 85, 86, 99]);
    expect(has('socket_filter')).toEqual([]);
  });

  test('the prototypes are bpf_func_proto\'s', () => {
    const table = new Runtime().helpersFor('sched_cls');
    const proto = (id: number) => table.get(id)!.proto;
    const lookup = { ret: 'ptr_to_socket_or_null', args: ['ptr_to_ctx', 'ptr_to_mem', 'const_size_or_zero', 'anything', 'anything'], acquires: true, packetAccess: true };
    expect(proto(84)).toEqual(lookup);
    expect(proto(85)).toEqual(lookup);
    expect(proto(99)).toEqual({ ...lookup, ret: 'ptr_to_sock_common_or_null' });
    expect(proto(86)).toEqual({ ret: 'integer', args: ['ptr_to_btf_id_sock_common'], releases: 1 });
    expect(proto(95)).toEqual({ ret: 'ptr_to_socket_or_null', args: ['ptr_to_sock_common'] });
    expect(proto(98)).toEqual({ ret: 'ptr_to_socket_or_null', args: ['ptr_to_sock_common'] });
    expect(proto(107)).toEqual({ ret: 'ptr_to_map_value_or_null', args: ['const_map_ptr', 'ptr_to_btf_id_sock_common', 'ptr_to_map_value_or_null', 'anything'], mapTypes: [24] });
    expect(proto(108)).toEqual({ ret: 'integer', args: ['const_map_ptr', 'ptr_to_btf_id_sock_common'], mapTypes: [24] });
    expect([84, 85, 86, 95, 98, 99, 107, 108].map((id) => table.get(id)!.name)).toEqual([
      'bpf_sk_lookup_tcp', 'bpf_sk_lookup_udp', 'bpf_sk_release', 'bpf_sk_fullsock', 'bpf_get_listener_sock', 'bpf_skc_lookup_tcp', 'bpf_sk_storage_get', 'bpf_sk_storage_delete',
    ]);
  });
});
