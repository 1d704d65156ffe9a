#!/usr/bin/env node
// Kernel oracle for the skb helpers this runtime added for real-world objects (opt-in; needs root,
// bpffs, bpftool and a built dist/): the tc helpers that reshape an skb (bpf_skb_vlan_push/pop,
// bpf_skb_change_proto/type/tail/head, bpf_skb_adjust_room), carry tunnel metadata
// (bpf_skb_get/set_tunnel_key/opt) or clone it (bpf_clone_redirect), and those that report where an
// skb is (its cgroup, namespace, route realm, class, IPsec state; the current task's ids and
// cgroup), on socket filters, tc and cgroup_skb as Linux offers them. Each case is a program
// (skb-helper-programs.mjs) run by the kernel with `bpftool prog run` and by SkbRunner.testRun on
// the interpreter and the JIT; errno, retval, data_out and ctx_out (whose cb[] holds the result,
// skb->protocol, the offloaded VLAN tag, pkt_type and len) must agree. Prints counts per helper;
// exits 1 on a mismatch or a kernel reject. A program the kernel's verifier refuses must be refused
// by ours too. --record writes the kernel's answers to tests/fixtures/golden/skb-helpers.json, which
// tests/helpers/skb-reshape.test.ts replays without a kernel.
//
//   npm run build && node scripts/kernel-oracle/skb-helpers.mjs [--verbose] [--record] [--only SUBSTRING]   (as root)
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, assemble, createExecutor, encode } from '../../dist/index.js';
import { SkbTestRunError } from '../../dist/runtime/skb.js';
import { encodeSkBuff } from '../../dist/runtime/sk-buff.js';
import { verify } from '../../dist/verifier/index.js';
import { hex, kernelTestRun, same, show } from './bpftool-test-run.mjs';
import { BE, calls, ether, ipv4, ipv6 } from './skb-helper-programs.mjs';

const verbose = process.argv.includes('--verbose');
const record = process.argv.includes('--record');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const pin = `/sys/fs/bpf/ebpf_wasm_skb_helpers_${process.pid}`;
const ctx = encodeSkBuff({});
const CHECKSUM_COMPLETE = 1 << 2;

/** The cases: the helper they are counted under, the program's calls, the packet, and test-run attributes. */
export function cases() {
  const out = [];
  const add = (helper, name, list, dataIn, attrs = {}) => out.push({ helper, name: `${helper}: ${name}`, asm: calls(list, attrs), dataIn, ctxIn: ctx, ctxOut: true, ...attrs });
  const q = 0x8100;
  const v4 = ipv4();
  const tagged = ipv4({ tags: [[q, 0x0123]] });
  const qinq = ipv4({ tags: [[0x88a8, 0x0aaa], [q, 0x0bbb]] });

  // bpf_skb_vlan_push (18) and bpf_skb_vlan_pop (19).
  for (const [proto, tci] of [[BE.q, 5], [BE.ad, 0xffff], [BE.ip, 7], [0, 0], [BE.q, '0x10005']]) add('vlan_push', `proto ${proto} tci ${tci}`, [[18, proto, tci]], v4);
  add('vlan_push', 'twice', [[18, BE.q, 10], [18, BE.ad, 20]], v4);
  add('vlan_push', 'three times', [[18, BE.q, 1], [18, BE.q, 2], [18, BE.ad, 3]], v4);
  add('vlan_push', 'twice on a tagged packet', [[18, BE.q, 10], [18, BE.q, 20]], tagged);
  add('vlan_push', 'twice, then loads', [[18, BE.q, 10], [18, BE.ad, 20]], v4, { loads: true });
  add('vlan_push', 'twice on an ARP frame', [[18, BE.q, 1], [18, BE.q, 2]], ether(0x0806, 28));
  add('vlan_push', 'twice, checksum complete', [[18, BE.q, 10], [18, BE.ad, 20]], v4, { flags: CHECKSUM_COMPLETE });
  add('vlan_push', 'repeat 3', [[18, BE.q, 9]], v4, { repeat: 3 });
  add('vlan_pop', 'untagged', [[19]], v4);
  add('vlan_pop', 'tagged', [[19]], tagged);
  add('vlan_pop', 'tagged, then loads', [[19]], tagged, { loads: true });
  add('vlan_pop', 'QinQ', [[19]], qinq);
  add('vlan_pop', 'QinQ twice', [[19], [19]], qinq);
  add('vlan_pop', 'QinQ three times', [[19], [19], [19]], qinq);
  add('vlan_pop', 'after a push', [[18, BE.q, 5], [19]], v4);
  add('vlan_pop', 'after two pushes', [[18, BE.q, 5], [18, BE.q, 6], [19]], v4);
  add('vlan_pop', 'tagged, checksum complete', [[19]], tagged, { flags: CHECKSUM_COMPLETE });
  add('vlan_pop', 'tag on a 16-byte frame', [[19]], ether(q, 2));
  add('vlan_pop', 'tag on an 18-byte frame', [[19]], ether(q, 4));
  add('vlan_pop', 'tag over 802.3', [[19]], Uint8Array.from([...ether(q, 2), 0x00, 0x40, 0xff, 0xff, 1, 2]));
  add('vlan_pop', 'tag over 802.2', [[19]], Uint8Array.from([...ether(q, 2), 0x00, 0x40, 0xaa, 0xaa, 1, 2]));
  add('vlan_pop', 'repeat 2 on QinQ', [[19]], qinq, { repeat: 2 });

  // bpf_skb_change_proto (31).
  for (const [name, pkt] of [['ipv4', v4], ['ipv6', ipv6()], ['arp', ether(0x0806, 28)], ['tagged ipv4', tagged]]) {
    for (const [to, flags] of [[BE.ipv6, 0], [BE.ip, 0], [BE.arp, 0], [BE.ipv6, 1]]) add('change_proto', `${name} to ${to} flags ${flags}`, [[31, to, flags]], pkt);
  }
  add('change_proto', '4 to 6, then loads', [[31, BE.ipv6, 0]], v4, { loads: true });
  add('change_proto', '6 to 4, then loads', [[31, BE.ip, 0]], ipv6(), { loads: true });
  add('change_proto', '4 to 6 and back', [[31, BE.ipv6, 0], [31, BE.ip, 0]], v4);
  add('change_proto', '6 to 4, checksum complete', [[31, BE.ip, 0]], ipv6(), { flags: CHECKSUM_COMPLETE });
  add('change_proto', 'ipv6 with no room to shrink', [[31, BE.ip, 0]], ipv6({ payload: 0 }).subarray(0, 54));

  // bpf_skb_change_type (32).
  for (const type of [0, 1, 2, 3, 4, 7, '0x100000000']) add('change_type', `to ${type}`, [[32, type]], v4);
  add('change_type', 'from multicast', [[32, 0]], Uint8Array.from([1, 0, 0x5e, 0, 0, 1, ...v4.subarray(6)]));
  add('change_type', 'from other host', [[32, 1]], Uint8Array.from([2, 0, 0, 0, 0, 9, ...v4.subarray(6)]));

  // bpf_skb_change_tail (38).
  for (const len of [0, 13, 14, 15, 33, 60, 68, 100, 3000, 16064, 16065, '0xffffffff']) add('change_tail', `to ${len}`, [[38, len, 0]], v4);
  add('change_tail', 'flags 1', [[38, 100, 1]], v4);
  add('change_tail', 'grow, checksum complete', [[38, 100, 0]], v4, { flags: CHECKSUM_COMPLETE });
  add('change_tail', 'same length, checksum complete', [[38, v4.length, 0]], v4, { flags: CHECKSUM_COMPLETE });
  add('change_tail', 'grow on gso', [[38, 100, 0]], v4, { ctxIn: encodeSkBuff({ gsoSize: 1400, gsoSegs: 2 }) });
  add('change_tail', 'after an encapsulating adjust_room', [[50, 20, 1, '0x2'], [38, 100, 0]], v4);
  add('change_tail', 'grow, then loads', [[38, 200, 0]], v4, { loads: true });

  // bpf_skb_change_head (43).
  for (const room of [0, 1, 14, 50, 100, 4000, 16064 - v4.length, 16065 - v4.length, '0xffffffff']) add('change_head', `by ${room}`, [[43, room, 0]], v4);
  add('change_head', 'flags 2', [[43, 14, 2]], v4);
  add('change_head', 'by 14, then loads', [[43, 14, 0]], v4, { loads: true });
  add('change_head', 'twice', [[43, 8, 0], [43, 8, 0]], v4);
  add('change_head', 'on gso past the limit', [[43, 16065 - v4.length, 0]], v4, { ctxIn: encodeSkBuff({ gsoSize: 1400, gsoSegs: 2 }) });

  // bpf_skb_adjust_room (50): modes, flags, and their checks.
  const v6 = ipv6();
  for (const [name, pkt] of [['ipv4', v4], ['ipv6', v6]]) {
    for (const diff of [-8, -1, 0, 1, 8, 20, 40, 0xfff, 0x1000, -0x1000]) {
      for (const mode of [0, 1]) add('adjust_room', `${name} ${diff} mode ${mode}`, [[50, diff, mode, 0]], pkt);
    }
  }
  add('adjust_room', 'mode 2', [[50, 8, 2, 0]], v4);
  add('adjust_room', 'arp', [[50, 8, 0, 0]], ether(0x0806, 28));
  add('adjust_room', 'ipv4 shrink past the headers', [[50, -30, 0, 0]], v4);
  add('adjust_room', 'ipv4 shrink to the header', [[50, -34, 1, 0]], v4);
  const F = { fixed: 1, ip4: 2, ip6: 4, gre: 8, udp: 16, nocsum: 32, eth: 64, d4: 128, d6: 256 };
  const l2 = (n) => `0x${(BigInt(n) << 56n).toString(16)}`;
  for (const [name, flags] of [['fixed gso', F.fixed], ['encap ipv4', F.ip4], ['encap ipv6', F.ip6], ['encap both', F.ip4 | F.ip6], ['gre', F.gre], ['ipv4+gre', F.ip4 | F.gre],
    ['ipv4+udp', F.ip4 | F.udp], ['ipv6+udp', F.ip6 | F.udp], ['gre+udp', F.ip4 | F.gre | F.udp], ['no csum reset', F.nocsum], ['eth without l2', F.ip4 | F.eth],
    ['eth l2 14', `0x${(BigInt(F.ip4 | F.eth) | (14n << 56n)).toString(16)}`], ['l2 8', `0x${(BigInt(F.ip4 | F.gre) | (8n << 56n)).toString(16)}`], ['l2 60', `0x${(BigInt(F.ip4) | (60n << 56n)).toString(16)}`],
    ['l2 only', l2(14)], ['decap ipv4 on grow', F.d4], ['bit 9', 1 << 9], ['bit 55', '0x80000000000000']]) {
    add('adjust_room', `grow 50 flags ${name}`, [[50, 50, 0, flags]], v4);
  }
  for (const [name, flags] of [['decap ipv4', F.d4], ['decap ipv6', F.d6], ['decap both', F.d4 | F.d6], ['encap on shrink', F.ip4], ['fixed', F.fixed], ['no csum reset', F.nocsum]]) {
    add('adjust_room', `ipv4 shrink 20 flags ${name}`, [[50, -20, 0, flags]], ipv4({ payload: 40 }));
    add('adjust_room', `ipv6 shrink 20 flags ${name}`, [[50, -20, 0, flags]], ipv6({ payload: 40 }));
  }
  add('adjust_room', 'encap twice', [[50, 20, 0, F.ip4], [50, 20, 0, F.ip4]], v4);
  add('adjust_room', 'encap ipv6 in ipv4, then loads', [[50, 40, 1, F.ip6]], v4, { loads: true });
  add('adjust_room', 'encap ipv4+udp, then loads', [[50, 28, 1, F.ip4 | F.udp]], v6, { loads: true });
  add('adjust_room', 'grow 20, checksum complete', [[50, 20, 0, 0]], v4, { flags: CHECKSUM_COMPLETE });
  add('adjust_room', 'shrink 8, checksum complete', [[50, -8, 0, 0]], v4, { flags: CHECKSUM_COMPLETE });
  add('adjust_room', 'on gso', [[50, 8, 0, 0]], v4, { ctxIn: encodeSkBuff({ gsoSize: 1400, gsoSegs: 2 }) });
  add('adjust_room', 'shrink on gso', [[50, -8, 0, F.fixed]], v4, { ctxIn: encodeSkBuff({ gsoSize: 1400, gsoSegs: 2 }) });
  add('adjust_room', 'grow past the limit', [[43, 16000 - v4.length, 0], [50, 100, 0, 0]], v4);

  // bpf_skb_get/set_tunnel_key (20, 21) and bpf_skb_get/set_tunnel_opt (29, 30). The key to set is
  // written into the 64-byte stack buffer first (with bpf_skb_load_bytes of a prepared packet).
  const key = (ipv6Key, extra = {}) => {
    const k = new Uint8Array(44);
    const v = new DataView(k.buffer);
    v.setUint32(0, extra.id ?? 0x12345678, true);
    if (ipv6Key) for (let i = 0; i < 16; i++) { k[4 + i] = 0x20 + i; k[28 + i] = 0x40 + i; }
    else { v.setUint32(4, 0x0a000001, true); v.setUint32(28, 0xc0a80001, true); }
    k[20] = extra.tos ?? 0x10;
    k[21] = extra.ttl ?? 64;
    v.setUint16(22, extra.ext ?? 0, true);
    v.setUint32(24, extra.label ?? (ipv6Key ? 0xabcdef : 0), true);
    return k;
  };
  /** A packet carrying `bytes` at offset 14, which the program loads to its stack buffer before its calls. */
  const carrying = (bytes) => Uint8Array.from([...MAC_HEADER, ...bytes, ...new Uint8Array(100 - bytes.length)]);
  const load = [26, 14, 'stack', 64];
  const tunnel = (name, list, bytes, attrs = {}) => add(name, list.map((c) => c.join(',')).join(' '), [load, ...list], carrying(bytes), { dump: true, ...attrs });
  tunnel('get_tunnel_key', [[20, 'stack', 44, 0]], key(false));
  for (const [flags, size] of [[0, 44], [1, 44], [0x10, 44], [0x11, 44], [0, 28], [0, 24], [0, 22], [0, 8], [0, 40], [1, 28], [1, 8], [2, 44], [0x20, 44]]) {
    tunnel('get_tunnel_key', [[21, 'stack', 44, flags & 1], [20, 'stack', size, flags]], key(flags & 1));
  }
  for (const [flags, size, extra] of [[0, 44], [1, 44], [2, 44], [4, 44], [8, 44], [0x10, 44], [0x1e, 44], [0x20, 44], [0, 28], [0, 24], [0, 22], [0, 8], [0, 40], [0, 0],
    [1, 8], [0, 44, { label: 5 }], [1, 44, { label: 0xfffffff }], [0, 44, { ext: 1 }], [0, 44, { id: 0xffffffff }]]) {
    tunnel('set_tunnel_key', [[21, 'stack', size, flags], [20, 'stack', 44, (flags & 1) | 0x10]], key(flags & 1, extra));
  }
  tunnel('set_tunnel_key', [[21, 'stack', 44, 0], [20, 'stack', 44, 1]], key(false));
  tunnel('set_tunnel_key', [[21, 'stack', 44, 1], [20, 'stack', 44, 0]], key(true));
  const opts = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
  tunnel('set_tunnel_opt', [[30, 'stack', 8]], opts);
  for (const size of [0, 4, 6, 8, 64]) tunnel('set_tunnel_opt', [[21, 'stack', 44, 0], [30, 'stack', size], [29, 'stack', 64]], opts);
  tunnel('get_tunnel_opt', [[29, 'stack', 64]], opts);
  tunnel('get_tunnel_opt', [[21, 'stack', 44, 0], [29, 'stack', 64]], opts);
  tunnel('get_tunnel_opt', [[21, 'stack', 44, 0], [30, 'stack', 16], [29, 'stack', 8]], opts);
  tunnel('get_tunnel_opt', [[21, 'stack', 44, 0], [30, 'stack', 16], [29, 'stack', 16]], opts);
  tunnel('get_tunnel_opt', [[21, 'stack', 44, 0], [30, 'stack', 16], [21, 'stack', 44, 0], [29, 'stack', 16]], opts);
  // The metadata stays on the skb across repeats: the second run's get finds the first run's key.
  tunnel('get_tunnel_key', [[20, 'stack', 44, 0], [21, 'stack', 44, 0]], key(false), { repeat: 2 });

  // Where the skb is: its cgroup (the test run's socket is in bpftool's, the root), namespace, realm, class, IPsec state.
  const where = (helper, name, types, body, dataIn = v4, attrs = {}) => {
    for (const type of types) out.push({ helper, name: `${helper}: ${type} ${name}`, type, asm: reporting(type, body), dataIn, ctxIn: ctx, ctxOut: true, ...attrs });
  };
  const SKB = ['socket_filter', 'sched_cls', 'cgroup_skb'];
  // The cookie's value is a global counter's (not compared): the same for the skb and for NULL, and not 0.
  where('get_netns_cookie', 'of the skb and of NULL', SKB, 'mov %r1, %r6\n call 122\n mov %r7, %r0\n mov %r1, 0\n call 122\n mov %r8, %r0\n mov %r0, 0\n jeq %r7, 0, +3\n jne %r7, %r8, +2\n mov %r0, 1');
  where('skb_cgroup_id', '', ['sched_cls', 'cgroup_skb'], 'mov %r1, %r6\n call 79');
  for (const level of [0, 1, 2, -1]) where('skb_ancestor_cgroup_id', `level ${level}`, ['sched_cls', 'cgroup_skb'], `mov %r1, %r6\n mov %r2, ${level}\n call 83`);
  // __sk_buff->sk made a full socket (the test run's socket is one), or 99 without a socket and 98 when it is not full.
  const fullSock = 'ldxdw %r1, [%r6+168]\n mov %r0, 99\n jeq %r1, 0, done\n call 95\n mov %r1, %r0\n mov %r0, 98\n jeq %r1, 0, done';
  where('sk_cgroup_id', 'of the skb\'s socket', ['cgroup_skb'], `${fullSock}\n call 128\n done:`);
  for (const level of [0, 1, -1]) where('sk_ancestor_cgroup_id', `level ${level}`, ['cgroup_skb'], `${fullSock}\n mov %r2, ${level}\n call 129\n done:`);
  where('get_route_realm', '', ['sched_cls'], 'mov %r1, %r6\n call 24');
  where('get_cgroup_classid', 'of the skb', ['sched_cls'], 'mov %r1, %r6\n call 17');
  where('get_cgroup_classid', 'of the task', ['socket_filter', 'cgroup_skb'], 'call 17');
  where('skb_cgroup_classid', '', ['sched_cls'], 'mov %r1, %r6\n call 151');
  for (const [index, size, flags] of [[0, 28, 0], [1, 28, 0], [0, 8, 0], [0, 28, 1]]) {
    where('skb_get_xfrm_state', `index ${index} size ${size} flags ${flags}`, ['sched_cls'],
      `mov %r1, -1\n stxdw [%r10-32], %r1\n mov %r1, %r6\n mov %r2, ${index}\n mov %r3, %r10\n add %r3, -32\n mov %r4, ${size}\n mov %r5, ${flags}\n call 66\n ldxw %r1, [%r10-32]\n stxw [%r6+52], %r1`);
  }
  for (const [ifindex, flags] of [[1, 0], [1, 1], [1, 2], [99999, 0], [99999, 2], [1, '0x100000000']]) {
    where('clone_redirect', `to ${ifindex} flags ${flags}`, ['sched_cls'], `mov %r1, %r6\n mov %r2, ${ifindex}\n lddw %r3, ${flags}\n call 13`);
  }
  where('clone_redirect', 'of a GSO skb', ['sched_cls'], 'mov %r1, %r6\n mov %r2, 1\n mov %r3, 0\n call 13', v4, { ctxIn: encodeSkBuff({ gsoSize: 1400, gsoSegs: 2 }) });
  where('get_current_uid_gid', '', SKB, 'call 15\n stxw [%r6+52], %r0\n rsh %r0, 32');
  where('get_current_cgroup_id', '', SKB, 'call 80');
  for (const level of [0, 1]) where('get_current_ancestor_cgroup_id', `level ${level}`, SKB, `mov %r1, ${level}\n call 123`);
  return out.filter((c) => !only || c.name.includes(only));
}

/** data_out as recorded: hex, or for long outputs its length and SHA-256 (the same function as the replaying test's). */
export const digest = (bytes) => (bytes.length <= 256 ? hex(bytes) : `${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}`);

/** A program of an skb type that runs `body` (r6 = ctx), reports its r0 in cb[0] and returns it (cgroup_skb: 1). */
function reporting(type, body) {
  return `mov %r6, %r1\n ${body}\n stxw [%r6+48], %r0\n ${type === 'cgroup_skb' ? 'mov %r0, 1\n ' : ''}exit`;
}

/** ELF section per program type (libbpf's names). */
const SECTION = { socket_filter: 'socket', sched_cls: 'tc', cgroup_skb: 'cgroup_skb/ingress' };

const MAC_HEADER = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06];

/** Runs one case on our engine, in the shape kernelTestRun returns. */
async function ourRun(c, engine) {
  const runtime = new Runtime();
  const type = c.type ?? 'sched_cls';
  const exec = await createExecutor(assemble(c.asm), engine, { memory: runtime.memory, helpers: runtime.helpersFor(type) });
  try {
    const r = runtime.skb.testRun(exec, type, { dataIn: c.dataIn, dataSizeOut: 65536, ctxIn: c.ctxIn, ctxOut: c.ctxOut, ctxSizeOut: 192, repeat: c.repeat, flags: c.flags });
    if (r.errno !== 0) return { errno: r.errno };
    return { errno: 0, retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut };
  } catch (err) {
    if (err instanceof SkbTestRunError) return { errno: err.errno };
    throw err;
  } finally {
    exec.dispose();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const perHelper = new Map();
  const count = (helper, key) => {
    const t = perHelper.get(helper) ?? { agree: 0, runs: 0 };
    t[key]++;
    perHelper.set(helper, t);
  };
  let mismatches = 0;
  let rejects = 0;
  const recorded = [];
  const work = mkdtempSync(join(tmpdir(), 'skb-helpers-oracle-'));
  try {
    const all = cases();
    for (const [i, c] of all.entries()) {
      const code = encode(assemble(c.asm));
      const kernel = kernelTestRun({ ...c, code, section: SECTION[c.type ?? 'sched_cls'], dataSizeOut: 65536, ctxSizeOut: 192 }, join(work, `case${i}`), pin);
      recorded.push(kernel.reject || kernel.failure ? { name: c.name, rejected: true }
        : { name: c.name, errno: kernel.errno, ...(kernel.errno ? {} : { retval: kernel.retval, dataOut: digest(kernel.dataOut), ctxOut: hex(kernel.ctxOut) }) });
      if (kernel.reject || kernel.failure) {
        // A program the kernel's verifier refuses must be refused by ours too.
        const ours = verify({ name: 'case', type: c.type ?? 'sched_cls', insns: assemble(c.asm), helpers: new Runtime().helpersFor(c.type ?? 'sched_cls') });
        count(c.helper, 'runs');
        if (!ours.accepted) {
          count(c.helper, 'agree');
          if (verbose) console.log(`BOTH-REJECT ${c.name}: ${ours.error?.message.split("\n")[0] ?? ''}`);
        } else {
          rejects++;
          console.log(`REJECT   ${c.name}: the kernel refuses it, ours accepts it: ${show(kernel)}`);
        }
        continue;
      }
      for (const engine of ['interp', 'jit']) {
        const ours = await ourRun(c, engine);
        count(c.helper, 'runs');
        if (same(kernel, ours)) {
          count(c.helper, 'agree');
          if (verbose) console.log(`AGREE    ${c.name} [${engine}]: ${show(kernel)}`);
        } else {
          mismatches++;
          console.log(`MISMATCH ${c.name} [${engine}]: kernel ${show(kernel)}; ours ${show(ours)}`);
          if (verbose || kernel.dataOut?.length === ours.dataOut?.length) console.log(`  kernel ${hex(kernel.dataOut)}\n  ours   ${hex(ours.dataOut)}`);
        }
      }
    }
    for (const [helper, t] of perHelper) console.log(`${helper}: ${t.agree} of ${t.runs} agree`);
    if (record) writeFileSync(new URL('../../tests/fixtures/golden/skb-helpers.json', import.meta.url), `${JSON.stringify(recorded, null, 1)}\n`);
    console.log(`skb helper oracle: ${all.length} cases (each run on both engines, or refused by both verifiers), ${mismatches} mismatch, ${rejects} refused by the kernel only`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (mismatches > 0 || rejects > 0) process.exitCode = 1;
}
