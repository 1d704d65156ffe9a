#!/usr/bin/env node
// Kernel oracle for skb test runs (opt-in; needs root, bpffs, bpftool and a built dist/): small
// socket_filter, tc (sched_cls) and cgroup_skb programs that read `struct __sk_buff` fields, use
// direct packet access and legacy LD_ABS/LD_IND loads, and call the skb helpers (load/store bytes,
// checksum replacement, csum_diff/update/level, pull_data, redirect, socket cookie and uid, flow hash) are assembled, written as ELF
// objects, run by the kernel with `bpftool prog run` over a set of packets and contexts, and by
// SkbRunner.testRun on the interpreter and the JIT. errno, retval, data_out and ctx_out must agree.
// Every program stores its result in cb[0] (reported in ctx_out) and returns it; cgroup_skb programs
// return only its low bit (the verifier allows 0 and 1). Exits 1 on a mismatch or a kernel reject.
//
//   npx tsc -p . && node scripts/kernel-oracle/skb-test-run.mjs [--verbose] [--only NAME-SUBSTRING]   (as root)
//
// Last run (Linux 6.18.44, bpftool 7.1.0): 728 cases, 1456 engine runs agree, 0 mismatch, 0 rejects.
// Cases with test-run flags go through the bpf(2) syscall (test-run-syscall.py), as bpftool cannot set them.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory, assemble, createExecutor, encode, helperTable } from '../../dist/index.js';
import { SkbRunner, SkbTestRunError } from '../../dist/runtime/skb.js';
import { encodeSkBuff } from '../../dist/runtime/sk-buff.js';
import { hex, kernelTestRun, same, show } from './bpftool-test-run.mjs';
import { BODIES, program } from './skb-programs.mjs';

const verbose = process.argv.includes('--verbose');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const work = mkdtempSync(join(tmpdir(), 'skb-oracle-'));
const pin = `/sys/fs/bpf/ebpf_wasm_skb_oracle_${process.pid}`;

/** This machine's Ethernet devices other than lo, as SkbDevice records (test runs may name them in ctx_in). */
const mac = (text) => Uint8Array.from(text.trim().split(':').map((x) => parseInt(x, 16)));
const DEVICES = readdirSync('/sys/class/net')
  .map((name) => ({ name, dir: `/sys/class/net/${name}` }))
  .filter(({ name, dir }) => name !== 'lo' && readFileSync(`${dir}/type`, 'utf8').trim() === '1')
  .map(({ dir }) => ({ ifindex: Number(readFileSync(`${dir}/ifindex`, 'utf8')), address: mac(readFileSync(`${dir}/address`, 'utf8')), broadcast: mac(readFileSync(`${dir}/broadcast`, 'utf8')) }));

/** ELF section per program type (libbpf's names). */
const SECTION = { socket_filter: 'socket', sched_cls: 'tc', cgroup_skb: 'cgroup_skb/ingress' };
const ALL = ['socket_filter', 'sched_cls', 'cgroup_skb'];


const pattern = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

/** One's-complement checksum of 16-bit big-endian words. */
function inetChecksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet + IPv4 + UDP packet with valid checksums (or a given UDP checksum), `payload` bytes of payload. */
function udp4({ dest = [0, 0, 0, 0, 0, 0], payload = 18, udpCheck } = {}) {
  const p = new Uint8Array(14 + 20 + 8 + payload);
  p.set(dest, 0);
  p.set([0x02, 0, 0, 0, 0, 1], 6);
  p.set([0x08, 0x00], 12);
  const ip = 14;
  p.set([0x45, 0, 0, 20 + 8 + payload, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], ip);
  const ipCheck = inetChecksum(p.subarray(ip, ip + 20));
  p[ip + 10] = ipCheck >> 8;
  p[ip + 11] = ipCheck & 0xff;
  const u = ip + 20;
  p.set([0x30, 0x39, 0x00, 0x35, 0, 8 + payload, 0, 0], u);
  for (let i = 0; i < payload; i++) p[u + 8 + i] = (i * 13 + 5) & 0xff;
  const pseudo = new Uint8Array(12 + 8 + payload);
  pseudo.set(p.subarray(ip + 12, ip + 20), 0);
  pseudo.set([0, 17, 0, 8 + payload], 8);
  pseudo.set(p.subarray(u, u + 8 + payload), 12);
  const check = udpCheck ?? (inetChecksum(pseudo) || 0xffff);
  p[u + 6] = check >> 8;
  p[u + 7] = check & 0xff;
  return p;
}

/** A packet with a given destination MAC and EtherType/length field. */
function ether(dest, proto, length = 64, sap) {
  const p = pattern(length);
  p.set(dest, 0);
  p[12] = proto >> 8;
  p[13] = proto & 0xff;
  if (sap !== undefined && length >= 16) p.set(sap, 14);
  return p;
}

/** The cases: program type, program, packet, and test-run attributes. */
function cases() {
  const out = [];
  const add = (name, types, body, dataIn, attrs = {}) => {
    for (const type of types) {
      const text = typeof body === 'function' ? body(type) : body;
      out.push({ name: `${type}: ${name}`, type, asm: program(type, text), dataIn, ...attrs });
    }
  };
  const TC = ['sched_cls'];
  const NOT_CG = ['socket_filter', 'sched_cls'];
  const CG_TC = ['sched_cls', 'cgroup_skb'];
  const pkt = udp4();

  // Sizes and the fields eth_type_trans fills in.
  for (const size of [13, 14, 15, 60, 3712, 3713]) add(`len, size ${size}`, ALL, BODIES.field(0), pattern(size));
  const dests = { host: [0, 0, 0, 0, 0, 0], broadcast: [255, 255, 255, 255, 255, 255], multicast: [1, 0, 0x5e, 0, 0, 1], other: [2, 0, 0, 0, 0, 9] };
  for (const [name, dest] of Object.entries(dests)) add(`pkt_type ${name}`, ALL, BODIES.field(4), ether(dest, 0x0800));
  for (const [name, proto, length, sap] of [['ipv4', 0x0800, 64], ['ipv6', 0x86dd, 64], ['arp', 0x0806, 64], ['0x0600', 0x0600, 64],
    ['802.2', 0x05ff, 64, [0xaa, 0xaa]], ['raw 802.3', 0x0040, 64, [0xff, 0xff]], ['802.3 len 14', 0x0040, 14], ['802.3 len 15', 0x0040, 15, [0xff]]]) {
    add(`protocol ${name}`, ALL, BODIES.field(16), ether(dests.host, proto, length, sap));
  }
  // Other fields a fresh skb shows.
  for (const [name, off] of [['mark', 8], ['queue_mapping', 12], ['vlan_present', 20], ['vlan_tci', 24], ['vlan_proto', 28], ['priority', 32],
    ['ingress_ifindex', 36], ['ifindex', 40], ['tc_index', 44], ['cb[2]', 56], ['hash', 68], ['napi_id', 84]]) {
    add(`field ${name}`, ALL, BODIES.field(off), pkt);
  }
  add('field tc_classid', TC, BODIES.field(72), pkt);
  add('field wire_len', TC, BODIES.field(160), pkt);
  add('field gso_segs', ALL, BODIES.field(164), pkt);
  add('field gso_size', ALL, BODIES.field(176), pkt);
  add('field tstamp', CG_TC, BODIES.field64(152), pkt);
  add('field hwtstamp', CG_TC, BODIES.field64(184), pkt);
  // Direct packet access: tc sees from the MAC header; cgroup_skb's test run has no data_end.
  for (const n of [1, 14, 15, 60, 61]) add(`direct read of ${n} bytes`, CG_TC, BODIES.direct(n), pattern(60));
  for (const n of [1, 34, 60, 61]) add(`direct write at ${n - 1}`, TC, BODIES.directWrite(n), pattern(60));
  // bpf_skb_load_bytes: offsets count from skb->data.
  for (const [off, len] of [[0, 1], [0, 8], [0, 16], [12, 4], [42, 8], [43, 8], [50, 1], [56, 8], [57, 8], [64, 1], [0x7fffffff, 1], [0x80000000, 1], [-1, 4]]) {
    add(`load_bytes ${off}/${len}`, ALL, BODIES.loadBytes(off, len), pattern(64));
  }
  // bpf_skb_store_bytes.
  for (const [off, len, flags] of [[0, 16, 0], [10, 4, 1], [48, 16, 0], [49, 16, 0], [63, 1, 2], [64, 1, 0], [0, 4, 3], [0, 4, 4], [0, 4, '0x100000000'],
    [0x7fffffff, 1, 0], [0x80000000, 1, 0]]) {
    add(`store_bytes ${off}/${len} flags ${flags}`, TC, BODIES.storeBytes(off, len, flags), pattern(64));
  }
  // bpf_l3_csum_replace on the IPv4 header checksum (offset 24 from the MAC header) and elsewhere.
  const l3 = [[24, 0, '0x12345678', 0], [24, 1, 2, 0], [24, '0x4000', '0x0040', 2], [24, '0xffff', '0xffff', 2], [24, '0x12345678', '0x87654321', 4],
    [24, '0xffffffff', 0, 4], [24, 0, 0, 4], [24, 1, 2, 1], [24, 1, 2, 3], [24, 1, 2, 8], [24, 1, 2, 16], [24, '0x100000000', 1, 0],
    [25, 1, 2, 2], [62, 1, 2, 2], [64, 1, 2, 2], [0x10000, 1, 2, 2], [0, 1, 2, 2], [12, '0x0008', '0xdd86', 2]];
  for (const [off, from, to, flags] of l3) add(`l3_csum_replace ${off} ${from}->${to} flags ${flags}`, TC, BODIES.csumReplace(10, off, from, to, flags), pkt);
  // Checksum fields at 0 and 0xffff, where the two one's-complement zeros differ.
  for (const check of [0, 0xffff, 0xfffe, 1]) {
    const p = udp4({ udpCheck: check });
    for (const [from, to, flags] of [[0, 0, 2], [1, 1, 2], [0, 0, 4], ['0xffff', 0, 2], [0, '0xffff', 2], [0, 0, 0], [0, '0xffffffff', 0], ['0x1234', '0x1234', 4]]) {
      add(`l3_csum_replace on check ${check} ${from}->${to} size ${flags}`, TC, BODIES.csumReplace(10, 40, from, to, flags), p);
      for (const extra of [0, 0x10, 0x20, 0x60, 0x80]) {
        add(`l4_csum_replace on check ${check} ${from}->${to} flags ${flags | extra}`, TC, BODIES.csumReplace(11, 40, from, to, flags | extra), p);
      }
    }
  }
  for (const [off, from, to, flags] of [[40, 1, 2, 0x100], [41, 1, 2, 2], [0x10000, 1, 2, 2], [62, 1, 2, 2], [63, 1, 2, 2], [40, 1, 2, 3], [40, 1, 2, 0x23]]) {
    add(`l4_csum_replace ${off} ${from}->${to} flags ${flags}`, TC, BODIES.csumReplace(11, off, from, to, flags), udp4({ udpCheck: 0 }));
  }
  // bpf_csum_diff.
  for (const [fs, ts, seed] of [[0, 0, 0], [0, 0, '0x12345678'], [0, 0, '0xffffffff'], [4, 4, 0], [8, 8, 0], [32, 32, 0], [32, 0, 0], [0, 32, 0], [16, 16, '0xabcdef01'],
    [3, 0, 0], [0, 5, 0], [7, 9, 1], [24, 24, 0], [4, 0, '0xffffffff'], [0, 4, '0xffffffff'], [20, 28, '0xfffffffe'], [1, 1, 0], [31, 2, 0]]) {
    add(`csum_diff ${fs}/${ts} seed ${seed}`, TC, BODIES.csumDiff(fs, ts, seed), pattern(64));
  }
  // bpf_redirect (tc): TC_ACT_REDIRECT, or TC_ACT_SHOT for unknown flags.
  for (const [ifindex, flags] of [[1, 0], [1, 1], [99999, 0], [1, 2], [1, '0x100000000'], [1, '0x8000000000000000']]) {
    add(`redirect ${ifindex} flags ${flags}`, TC, BODIES.redirect(ifindex, flags), pkt);
  }
  add('socket cookie is non-zero', ALL, BODIES.cookie(), pkt);
  add('set_hash_invalid', TC, BODIES.hashInvalid(), pkt);
  add('socket uid', ALL, BODIES.uid(), pkt);
  // The flow hash: non-zero, cached until invalidated, the same with addresses or ports swapped.
  for (const [name, how] of [['unchanged', {}], ['addresses swapped', { swapAddrs: true }], ['ports swapped', { swapPorts: true }],
    ['both swapped', { swapAddrs: true, swapPorts: true }], ['a port changed', { bumpPort: true }], ['a port changed, hash kept', { bumpPort: true, flags: 0 }],
    ['addresses swapped, a port changed', { swapAddrs: true, bumpPort: true }]]) {
    add(`hash relations: ${name}`, TC, BODIES.hashRelations(how), pkt);
    // On IPv6 the same bytes lie inside the source address, so every rewrite but "unchanged" is another flow.
    add(`hash relations, IPv6 source rewritten: ${name}`, TC, BODIES.hashRelations(how), ether(dests.host, 0x86dd, 80));
  }
  for (const v of [0, 1, '0x12345678', '0xffffffff']) add(`set_hash ${v}`, TC, BODIES.setHash(v), pkt);
  // bpf_skb_load_bytes_relative: from the MAC (0) or network (1) header, up to the packet's end.
  for (const [off, len, start] of [[0, 8, 0], [0, 8, 1], [6, 8, 0], [56, 8, 0], [57, 8, 0], [42, 8, 1], [43, 8, 1], [0, 4, 2], [0x10000, 1, 0], [0xffff, 1, 1]]) {
    add(`load_bytes_relative ${off}/${len} from ${start}`, ALL, BODIES.loadRelative(off, len, start), pattern(64), { ctxIn: encodeSkBuff({}), ctxOut: true });
  }
  for (const len of [0, 1, 64, 65, 1000, '0xffffffff']) add(`skb_pull_data ${len}`, TC, BODIES.ctxArg(39, len), pattern(64));
  add('csum_update', TC, BODIES.ctxArg(40, '0x1234'), pattern(64));
  for (const levels of [[0], [1, 0], [1, 1, 1, 1, 1, 0], [1, 2, 0], [1, 1, 2, 0], [2, 0], [3, 0], [1, 3, 0], [4], [1, 4, 0]]) {
    add(`csum_level ${levels.join(',')}`, TC, BODIES.csumLevels(levels), pattern(64), { ctxIn: encodeSkBuff({}), ctxOut: true });
  }
  add('repeat 2 of csum_level 1,1,0', TC, BODIES.csumLevels([1, 1, 0]), pattern(64), { ctxIn: encodeSkBuff({}), ctxOut: true, repeat: 2 });
  add('csum_level 0x100000000', TC, BODIES.ctxArg(135, '0x100000000'), pattern(64));
  // The dummy socket of a test run, seen through __sk_buff->sk.
  const ipv6 = ether(dests.host, 0x86dd, 80);
  for (const [name, p] of [['IPv4', pkt], ['IPv6', ipv6], ['ARP', ether(dests.host, 0x0806)]]) {
    for (const offs of [[4, 24, 52, 72], [0, 44, 76, 28], [56, 60, 64, 68]]) add(`sk of ${name}: ${offs.join(',')}`, ALL, BODIES.sock(offs), p, { ctxIn: encodeSkBuff({}), ctxOut: true });
  }
  // Linux 6.18 wants room for the IPv4 or IPv6 header.
  for (const [proto, length] of [[0x0800, 33], [0x0800, 34], [0x86dd, 53], [0x86dd, 54], [0x0806, 15]]) {
    add(`EtherType 0x${proto.toString(16)}, ${length} bytes`, ALL, BODIES.field(0), ether(dests.host, proto, length));
  }
  // BPF_F_TEST_SKB_CHECKSUM_COMPLETE: skb->csum covers the network header to the end; a run that
  // leaves it stale fails with -EBADMSG. csum_update(0) returns skb->csum itself.
  const CSUM = { flags: 4 };
  add('checksum complete: pass', ALL, BODIES.field(0), pkt, CSUM);
  add('checksum complete: csum_update(0)', TC, BODIES.ctxArg(40, 0), pkt, CSUM);
  add('checksum complete: csum_update(0) on a pattern', TC, BODIES.ctxArg(40, 0), pattern(64), CSUM);
  add('checksum complete: csum_update(0) on an odd length', TC, BODIES.ctxArg(40, 0), pattern(63), CSUM);
  add('checksum complete: csum_update(0x10000)', TC, BODIES.ctxArg(40, '0x10000'), pkt, CSUM);
  add('checksum complete: csum_update(0xffffffff)', TC, BODIES.ctxArg(40, '0xffffffff'), pkt, CSUM);
  add('checksum complete: csum_level 0', TC, BODIES.csumLevels([1, 0]), pkt, { ...CSUM, ctxIn: encodeSkBuff({}), ctxOut: true });
  add('checksum complete: direct write', TC, BODIES.directWrite(40), pattern(60), CSUM);
  add('checksum complete: direct write in the MAC header', TC, BODIES.directWrite(6), pattern(60), CSUM);
  for (const [off, len, flags] of [[20, 4, 0], [20, 4, 1], [21, 4, 1], [21, 3, 1], [0, 16, 1], [0, 4, 1], [10, 8, 1], [48, 16, 1]]) {
    add(`checksum complete: store_bytes ${off}/${len} flags ${flags}`, TC, BODIES.storeBytes(off, len, flags), pattern(64), CSUM);
  }
  for (const [name, store, l3, l4] of [['store, l3, l4 pseudo', 1, 4, 0x14], ['store, l3, l4 without pseudo', 1, 4, 4], ['store, l3', 1, 4, -1],
    ['store without recompute, l3, l4 pseudo', 0, 4, 0x14], ['store, l4 pseudo', 1, -1, 0x14], ['store, l3, l4 pseudo ipv6', 1, 4, 0x94]]) {
    add(`checksum complete: NAT ${name}`, TC, BODIES.natSource(store, l3, l4), pkt, CSUM);
    add(`checksum none: NAT ${name}`, TC, BODIES.natSource(store, l3, l4), pkt);
  }
  for (const l4 of [0x10, 0x90, 0x0, 0x30]) {
    add(`checksum complete: NAT by difference, l4 flags ${l4}`, TC, BODIES.natSourceByDiff(l4), pkt, CSUM);
    add(`checksum none: NAT by difference, l4 flags ${l4}`, TC, BODIES.natSourceByDiff(l4), pkt);
  }
  add('flags: 1 (run on CPU)', ALL, BODIES.field(0), pkt, { flags: 1 });
  add('flags: 8', ALL, BODIES.field(0), pkt, { flags: 8 });

  // Writable fields, read back in the program and in ctx_out.
  add('writes', ALL, (type) => BODIES.writes(type), pkt, { ctxIn: encodeSkBuff({}), ctxOut: true });
  add('repeat 5 counts', ALL, (type) => BODIES.count(type), pkt, { ctxIn: encodeSkBuff({}), ctxOut: true, repeat: 5 });
  // tc_index and tc_classid are u16 in the skb, and queue_mapping ignores values from 0xffff: seen by the next run.
  for (const [tcIndex, classid, queue] of [[3, 4, 5], ['0x12345', '0x10002', 6], [1, 1, '0xffff'], [1, 1, '0x10001'], ['0xffffffff', '0xffffffff', '0xfffe']]) {
    add(`repeat 2 of narrow writes ${tcIndex}, ${classid}, ${queue}`, TC, BODIES.narrow(tcIndex, classid, queue), pkt, { ctxIn: encodeSkBuff({}), ctxOut: true, repeat: 2 });
  }
  add('repeat 3 of store_bytes', TC, BODIES.storeBytes(2, 4, 0), pattern(64), { repeat: 3 });
  // Legacy packet loads (not for cgroup_skb): offsets from skb->data.
  for (const [size, off] of [['b', 0], ['h', 12], ['w', 14], ['w', 60], ['w', 61], ['b', 63], ['b', 64], ['h', -1], ['w', 0x7fffffff]]) {
    add(`ldabs${size} ${off}`, NOT_CG, BODIES.ldAbs(size, off), pattern(64));
  }
  for (const [size, base, off] of [['b', 10, 2], ['h', 60, 2], ['w', 61, 0], ['b', -1, 1], ['w', 0x7ffffffe, 2]]) {
    add(`ldind${size} ${base}+${off}`, NOT_CG, BODIES.ldInd(size, base, off), pattern(64));
  }
  // Negative offsets: SKF_NET_OFF (-0x100000) counts from the network header, SKF_LL_OFF (-0x200000) from the MAC header.
  const NET = -0x100000;
  const LL = -0x200000;
  for (const [size, off] of [['b', LL], ['w', LL + 6], ['h', LL + 12], ['w', LL + 60], ['w', LL + 61], ['b', LL + 63], ['b', LL + 64], ['b', LL - 1],
    ['b', NET], ['w', NET + 2], ['w', NET + 46], ['w', NET + 47], ['b', NET + 49], ['b', NET + 50], ['b', NET - 1], ['w', -0x1000], ['b', -1],
    ['b', LL + 0x80000], ['h', -0x7fffffff]]) {
    add(`ldabs${size} ${off}`, NOT_CG, BODIES.ldAbs(size, off), pattern(64));
  }
  for (const [size, base, off] of [['b', LL, 5], ['w', LL + 10, 2], ['h', NET, 0], ['w', NET + 40, 6], ['w', NET + 40, 7], ['b', 0, NET + 3], ['b', '0x100000000', LL]]) {
    add(`ldind${size} ${base}+${off}`, NOT_CG, BODIES.ldInd(size, base, off), pattern(64));
  }
  // Output rules.
  add('data_size_out 80 >= output', ALL, BODIES.field(0), pattern(64), { dataSizeOut: 80 });
  add('data_size_out 64 = output', ALL, BODIES.field(0), pattern(64), { dataSizeOut: 64 });
  add('data_size_out 32 < output', ALL, BODIES.field(0), pattern(64), { dataSizeOut: 32 });
  // ctx_in and ctx_out.
  const ctx = (f) => encodeSkBuff(f);
  const fieldsProgram = BODIES.field(36);
  // (ctx_out without ctx_in cannot be asked through bpftool: it passes ctx_size_out without a buffer, which the syscall refuses.)
  add('ctx: zero', ALL, fieldsProgram, pkt, { ctxIn: ctx({}), ctxOut: true });
  add('ctx: mark, priority, cb, ingress_ifindex', ALL, fieldsProgram, pkt, { ctxIn: ctx({ mark: 7, priority: 9, ingressIfindex: 42, cb: [1, 2, 3, 4, 5] }), ctxOut: true });
  add('ctx: ifindex 1', ALL, BODIES.field(40), pkt, { ctxIn: ctx({ ifindex: 1 }), ctxOut: true });
  add('ctx: ifindex 99999', ALL, BODIES.field(40), pkt, { ctxIn: ctx({ ifindex: 99999 }), ctxOut: true });
  // A real device decides ifindex and, through its addresses, pkt_type.
  for (const device of DEVICES.slice(0, 1)) {
    for (const [name, dest] of [['its address', device.address], ['its broadcast', device.broadcast], ['another host', [2, 0, 0, 0, 0, 0x77]], ['multicast', dests.multicast]]) {
      add(`ctx: ifindex ${device.ifindex}, to ${name}`, ALL, BODIES.field(4), ether(dest, 0x0800), { ctxIn: ctx({ ifindex: device.ifindex }), ctxOut: true });
    }
  }
  add('ctx: tstamp, hwtstamp', CG_TC, BODIES.field64(152), pkt, { ctxIn: ctx({ tstamp: 0x1122334455667788n, hwtstamp: 99n }), ctxOut: true });
  add('ctx: gso_segs 65535, gso_size 1400', ALL, BODIES.field(164), pkt, { ctxIn: ctx({ gsoSegs: 65535, gsoSize: 1400 }), ctxOut: true });
  add('ctx: gso_segs 65536', ALL, fieldsProgram, pkt, { ctxIn: ctx({ gsoSegs: 65536 }), ctxOut: true });
  for (const wireLen of [0, 45, 46, 59, 60, 65536, 65537]) {
    add(`ctx: wire_len ${wireLen}`, ALL, fieldsProgram, pkt, { ctxIn: ctx({ wireLen }), ctxOut: true });
  }
  add('ctx: wire_len read', TC, BODIES.field(160), pkt, { ctxIn: ctx({ wireLen: 1000 }), ctxOut: true });
  add('ctx: data_end set', ALL, fieldsProgram, pkt, { ctxIn: ctx({ dataEnd: 20 }), ctxOut: true });
  for (const [name, f] of [['len', { len: 1 }], ['pkt_type', { pktType: 1 }], ['queue_mapping', { queueMapping: 1 }], ['protocol', { protocol: 8 }],
    ['tc_index', { tcIndex: 1 }], ['hash', { hash: 1 }], ['tc_classid', { tcClassid: 1 }], ['data', { data: 1 }], ['napi_id', { napiId: 1 }],
    ['data_meta', { dataMeta: 1 }], ['sk', { sk: 1n }], ['tstamp_type', { tstampType: 1 }], ['family', { family: 2 }]]) {
    add(`ctx: ${name} set`, ALL, fieldsProgram, pkt, { ctxIn: ctx(f), ctxOut: true });
  }
  add('ctx: long ctx_in zero tail', ALL, fieldsProgram, pkt, { ctxIn: Uint8Array.from([...ctx({ mark: 1 }), 0, 0, 0, 0]), ctxOut: true });
  add('ctx: long ctx_in non-zero tail', ALL, fieldsProgram, pkt, { ctxIn: Uint8Array.from([...ctx({}), 0, 0, 1, 0]), ctxOut: true });
  add('ctx: short ctx_in', ALL, fieldsProgram, pkt, { ctxIn: ctx({ mark: 5 }).subarray(0, 12), ctxOut: true });
  add('ctx: short ctx_size_out', ALL, fieldsProgram, pkt, { ctxIn: ctx({ mark: 3 }), ctxOut: true, ctxSizeOut: 16 });
  add('ctx: truncated data_out leaves ctx_out', ALL, fieldsProgram, pkt, { ctxIn: ctx({ mark: 3 }), ctxOut: true, dataSizeOut: 20 });
  return out.filter((c) => !only || c.name.includes(only));
}

/** Runs one case on our engine, in the shape kernelTestRun returns (bpftool shows no output on an error). */
async function ourRun(c, engine) {
  const memory = new GuestMemory();
  const runner = new SkbRunner(memory, { devices: DEVICES });
  const exec = await createExecutor(assemble(c.asm), engine, { memory, helpers: helperTable(runner.helpers) });
  try {
    const r = runner.testRun(exec, c.type, {
      dataIn: c.dataIn, dataSizeOut: c.dataSizeOut, ctxIn: c.ctxIn, ctxOut: c.ctxOut, ctxSizeOut: c.ctxSizeOut ?? 192, repeat: c.repeat, flags: c.flags,
    });
    if (r.errno !== 0) return { errno: r.errno };
    return { errno: 0, retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut };
  } catch (err) {
    if (err instanceof SkbTestRunError) return { errno: err.errno };
    throw err;
  } finally {
    exec.dispose();
  }
}

const tally = { agree: 0, mismatch: 0, rejected: 0 };
try {
  const all = cases();
  for (const [i, c] of all.entries()) {
    const code = encode(assemble(c.asm));
    const kernel = kernelTestRun({ ...c, code, section: SECTION[c.type], ctxSizeOut: c.ctxSizeOut ?? 192 }, join(work, `case${i}`), pin);
    if (kernel.reject || kernel.failure) {
      tally.rejected++;
      console.log(`REJECT   ${c.name}: ${show(kernel)}`);
      continue;
    }
    for (const engine of ['interp', 'jit']) {
      const ours = await ourRun(c, engine);
      if (same(kernel, ours)) {
        tally.agree++;
        if (verbose) console.log(`AGREE    ${c.name} [${engine}]: ${show(kernel)}`);
      } else {
        tally.mismatch++;
        console.log(`MISMATCH ${c.name} [${engine}]: kernel ${show(kernel)}; ours ${show(ours)}`);
        if (verbose || kernel.dataOut?.length === ours.dataOut?.length) console.log(`  kernel ${hex(kernel.dataOut)}\n  ours   ${hex(ours.dataOut)}`);
      }
    }
  }
  console.log(`skb test-run oracle: ${all.length} cases, ${tally.agree} engine runs agree, ${tally.mismatch} mismatch, ${tally.rejected} cases rejected by the kernel`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (tally.mismatch > 0 || tally.rejected > 0) process.exitCode = 1;
