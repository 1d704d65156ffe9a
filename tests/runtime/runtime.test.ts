// The Runtime end to end on the committed fixtures: objects load into live maps and programs,
// references are bound, programs pass the verifier's gate, and runs on the interpreter and the JIT
// (two runtimes in lockstep) agree on results and on every map's contents.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CLOCK_START, GlobalDataError, Runtime, RuntimeError } from '../../runtime/runtime.js';
import { DifferentialObject } from '../../runtime/differential.js';
import { LoaderError } from '../../loader/errors.js';
import { BudgetExhaustedError } from '../../runtime/execution-errors.js';
import { buildPacket } from '../../net/packets.js';
import { assemble } from '../../isa/assembler.js';
import { encode } from '../../isa/instruction.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

const fixture = (name: string) => join(PROJECT_ROOT, 'tests', 'fixtures', name);
const u32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
const u64 = (v: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return b; };
const readU64 = (b: Uint8Array | undefined) => Number(new DataView(b!.buffer, b!.byteOffset).getBigUint64(0, true));

/** A legacy map definition for objectOf. */
interface TestMap { name: string; type: number; keySize: number; valueSize: number; maxEntries: number }

/** An ELF object with one XDP program written in assembler; `maps` are named by `lddw %rN, map:NAME`. */
function objectOf(asm: string, maps: TestMap[] = []): Uint8Array {
  const mapRefs: { section: string; offset: number; map: string }[] = [];
  const lines = asm.split('\n').map((line) => {
    const m = /lddw\s+%r(\d+),\s*map:(\w+)/.exec(line);
    return m ? { text: `lddw %r${m[1]}, 0`, map: m[2] } : { text: line };
  });
  const insns = assemble(lines.map((l) => l.text).join('\n'));
  // One instruction per non-empty line in these programs.
  const statements = lines.filter((l) => l.text.trim() !== '');
  insns.forEach((insn, i) => {
    const map = statements[i]?.map;
    if (map) mapRefs.push({ section: 'xdp', offset: insn.pc * 8, map });
  });
  const code = encode(insns);
  return writeElf({ programs: [{ name: 'xdp', code }], functions: [{ name: 'prog', section: 'xdp', offset: 0, size: code.length, global: true }], calls: [], license: 'GPL', maps, mapRefs });
}

describe('loading', () => {
  test('an object gives its programs and maps by name, verified, with ids', async () => {
    const rt = new Runtime();
    const obj = await rt.loadObject(fixture('xdp_firewall.o'));
    expect([...obj.programs.keys()]).toEqual(['xdp_firewall']);
    expect([...obj.maps.keys()]).toEqual(['blocked_v4', 'blocked_v6', 'denied_ports', 'verdicts', '.rodata']);
    const p = obj.program('xdp_firewall');
    expect(p.type).toBe('xdp');
    expect(p.verified).toBe(true);
    expect(p.verdict.reason).toMatch(/^verified: \d+ instructions processed/);
    expect(rt.programById(p.id)).toBe(p);
    expect(obj.license).toBe('GPL');
    // References are bound: no pseudo lddw is left.
    expect(p.insns.filter((i) => i.immHi !== undefined && i.src !== 0)).toEqual([]);
  });

  test('unknown names are one-line errors listing what exists', async () => {
    const obj = await new Runtime().loadObject(fixture('xdp_firewall.o'));
    expect(() => obj.program('nope')).toThrow(/no program named 'nope' \(there are: xdp_firewall\)/);
    expect(() => obj.map('nope')).toThrow(RuntimeError);
  });

  test('a program calling a helper the runtime lacks does not load, with its name and id; asked for, it fails the load', async () => {
    const bytes = objectOf('call 999\n exit');
    const obj = await new Runtime().loadObject(bytes, { fileName: 'x.o' });
    expect([...obj.programs.keys()]).toEqual([]);
    expect(obj.failures.get('prog')?.message).toMatch(/x\.o: section xdp: offset 0x0: program 'prog' calls helper 999/);
    expect(() => obj.program('prog')).toThrow(/program 'prog' calls helper 999/);
    const named = objectOf('mov %r0, 0\n call 67\n exit');
    await expect(new Runtime().loadObject(named, { fileName: 'y.o', programs: ['prog'] })).rejects.toThrow(/offset 0x8: program 'prog' calls bpf_get_stack \(helper 67\), which this runtime does not provide for xdp programs/);
  });

  test('a program calling the dynptr kfuncs loads, verifies and runs as on Linux, on both engines', async () => {
    for (const engine of ['interp', 'jit'] as const) {
      const obj = await new Runtime({ engine }).loadObject(fixture('kfunc_dynptr.o'));
      expect([...obj.programs.keys()]).toEqual(['xdp_dynptr_ttl', 'xdp_direct_ttl']);
      for (const name of ['xdp_dynptr_ttl', 'xdp_direct_ttl']) {
        const p = obj.program(name);
        expect(p.verified, p.verdict.reason).toBe(true);
        // Linux: XDP_DROP for a TTL of 1, XDP_PASS otherwise.
        expect(p.testRun({ dataIn: buildPacket({ ttl: 1 }) }).retval).toBe(1);
        expect(p.testRun({ dataIn: buildPacket({ ttl: 64 }) }).retval).toBe(2);
      }
      // The IPv4 header crossing the end of the linear part: the dynptr parser reads it from a copy.
      const crossing = obj.program('xdp_dynptr_ttl').testRun({ dataIn: buildPacket({ ttl: 1 }), ctxIn: { dataEnd: 20 } });
      expect(crossing.retval).toBe(1);
    }
  });

  test('a program calling a kernel function (kfunc) the runtime lacks fails alone, naming it; the object\'s others load and run', async () => {
    // kfunc_dynptr.o with its kfunc renamed (same length, keeping the 'xdp' tail the section name shares in the string table) to one no kernel has.
    const bytes = new Uint8Array(readFileSync(fixture('kfunc_dynptr.o')));
    const from = new TextEncoder().encode('bpf_dynptr_from_xdp');
    const to = new TextEncoder().encode('bpf_dynptr_frob_xdp');
    for (let i = 0; i + from.length <= bytes.length; i++) {
      if (from.every((b, j) => bytes[i + j] === b)) bytes.set(to, i);
    }
    for (const engine of ['interp', 'jit'] as const) {
      const obj = await new Runtime({ engine }).loadObject(bytes, { fileName: 'kfunc_dynptr.o' });
      expect([...obj.programs.keys()]).toEqual(['xdp_direct_ttl']);
      expect(obj.failures.get('xdp_dynptr_ttl')?.message).toMatch(/kfunc_dynptr\.o: section xdp: offset 0x[0-9a-f]+: program 'xdp_dynptr_ttl' calls kernel function 'bpf_dynptr_frob_xdp' \(a kfunc\), which this runtime does not implement for xdp programs$/);
      expect(() => obj.program('xdp_dynptr_ttl')).toThrow(/kernel function 'bpf_dynptr_frob_xdp'/);
      expect(obj.program('xdp_direct_ttl').testRun({ dataIn: buildPacket({ ttl: 1 }) }).retval).toBe(1);
    }
  });

  test('closing an object gives its guest memory back and ends its use', async () => {
    const rt = new Runtime();
    const before = rt.memory.regions().length;
    const obj = await rt.loadObject(fixture('tail_calls.o'));
    const id = obj.program('entry').id;
    obj.close();
    expect(rt.memory.regions().filter((r) => r.name !== 'map handles').length).toBe(before);
    expect(rt.programById(id)).toBeUndefined();
    expect(() => obj.program('entry')).toThrow(/tail_calls\.o: the object was closed/);
  });

  test('engine both is refused with a pointer to two runtimes', () => {
    expect(() => new Runtime({ engine: 'both' as never })).toThrow(/two runtimes/);
  });

  test('a missing file is a one-line error naming it', async () => {
    await expect(new Runtime().loadObject('/nonexistent.o')).rejects.toThrow(/\/nonexistent\.o: cannot read/);
  });

  test('global data maps hold their sections, .rodata read-only for programs', async () => {
    const obj = await new Runtime().loadObject(fixture('global_data.o'));
    const rodata = obj.map('.rodata');
    expect(rodata.flags & (1 << 7)).not.toBe(0);
    // max_len = 1500 comes first in .rodata.
    expect(new DataView(rodata.lookup(u32(0))!.buffer).getUint32(0, true)).toBe(1500);
    expect(readU64(obj.map('.data.custom').lookup(u32(0)))).toBe(42);
    expect(obj.map('.bss').lookup(u32(0))!.every((b) => b === 0)).toBe(true);
    expect(Buffer.from(obj.map('.rodata.str1.1').lookup(u32(0))!).toString('latin1')).toContain('veth');
  });

  test('.rodata is frozen once loaded, as libbpf freezes it: user space reads it, and writes fail with EPERM', async () => {
    const obj = await new Runtime().loadObject(fixture('global_data.o'));
    expect(obj.map('.rodata').frozen).toBe(true);
    expect(() => obj.typedMap('.rodata').update(new Uint8Array(4), { max_len: 20 })).toThrow(/EPERM/);
    expect(obj.map('.data').frozen).toBe(false);
    obj.typedMap('.data').update(new Uint8Array(4), { packets: 7 });
  });

  test.for(['interp', 'jit'] as const)('globals set before load reach the verifier and the program (%s)', async (engine) => {
    const dataIn = buildPacket();
    const run = async (globals?: Record<string, Record<string, unknown>>) => {
      const obj = await new Runtime({ engine }).loadObject(fixture('global_data.o'), globals ? { globals } : {});
      const retval = obj.program('global_data').testRun({ dataIn }).retval;
      return { retval, obj };
    };
    expect((await run()).retval).toBe(1);
    // max_len 20 drops the packet; .data starts where it was told, and other variables keep theirs.
    const { retval, obj } = await run({ '.rodata': { max_len: 20 }, '.data': { packets: 100 } });
    expect(retval).toBe(0);
    expect(obj.typedMap('.rodata').lookup(new Uint8Array(4))).toMatchObject({ max_len: 20, verbose: 0, iface_prefix: 'eth' });
    expect(obj.typedMap('.data').lookup(new Uint8Array(4))).toMatchObject({ packets: 101, round_robin: 11 });
    // The verifier reads the frozen .rodata: the printk behind `verbose` is dead code until it is set.
    const quiet = (await run()).obj.program('global_data').verdict.insnsProcessed;
    const verbose = (await run({ '.rodata': { verbose: 1 } })).obj.program('global_data').verdict.insnsProcessed;
    expect(verbose).toBeGreaterThan(quiet);
  });

  test('globals that cannot be set fail the load naming the section and the variable', async () => {
    const load = (globals: Record<string, Record<string, unknown>>) => new Runtime().loadObject(fixture('global_data.o'), { globals });
    await expect(load({ '.rodata': { nope: 1 } })).rejects.toThrow(new GlobalDataError(fixture('global_data.o'), '.rodata', "value.nope: .rodata has no variable 'nope' (it has max_len, verbose, iface_prefix, global_data.____fmt)"));
    await expect(load({ '.rodata': { max_len: -1 } })).rejects.toThrow(/\.rodata: value\.max_len: -1 is out of range/);
    await expect(load({ '.kconfig': {} })).rejects.toThrow(/\.kconfig: no such global data section \(there are: \.rodata, \.data, \.data\.custom, \.rodata\.cst16, \.bss, \.rodata\.str1\.1\)/);
    await expect(load({ '.rodata.str1.1': { a: 1 } })).rejects.toThrow(/\.rodata\.str1\.1: BTF does not describe its variables/);
  });

  test('prog arrays and map-in-maps get their static initial values', async () => {
    const tail = await new Runtime().loadObject(fixture('tail_calls.o'));
    const ids = ['stage_ipv4', 'stage_ipv6', 'stage_final'].map((n) => tail.program(n).id);
    expect([0, 1, 2].map((i) => new DataView(tail.map('stages').lookup(u32(i))!.buffer).getUint32(0, true))).toEqual(ids);
    const rt = new Runtime();
    const mim = await rt.loadObject(fixture('map_in_map.o'));
    expect(new DataView(mim.map('tenants').lookup(u32(0))!.buffer).getUint32(0, true)).toBe(rt.mapId(mim.map('tenant0')));
  });

  test('a spin lock in a BTF value is found and kept out of JS copies', async () => {
    const obj = await new Runtime().loadObject(fixture('spin_lock.o'));
    expect((obj.map('buckets') as unknown as { spinLockOffset: number }).spinLockOffset).toBe(0);
  });
});

describe('xdp_firewall on both engines', () => {
  async function firewall() {
    const d = await DifferentialObject.load(fixture('xdp_firewall.o'));
    for (const obj of [d.interp, d.jit]) {
      // Block 192.0.2.0/24 and 2001:db8::/32; deny UDP port 53.
      obj.map('blocked_v4').update(Uint8Array.from([24, 0, 0, 0, 192, 0, 2, 0]), u32(1));
      obj.map('blocked_v6').update(Uint8Array.from([32, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, ...new Array(12).fill(0)]), u32(1));
      obj.map('denied_ports').update(Uint8Array.from([17, 0, 0, 53]), u64(0));
    }
    return d;
  }

  test.for([
    { name: 'allowed TCP', packet: { proto: 'tcp' as const, dstPort: 80 }, verdict: 2, counter: 0 },
    { name: 'blocked IPv4 prefix', packet: { src: '192.0.2.77' }, verdict: 1, counter: 1 },
    { name: 'blocked IPv6 prefix', packet: { ipVersion: 6 as const, src: '2001:db8::5' }, verdict: 1, counter: 1 },
    { name: 'denied UDP port behind two VLAN tags', packet: { vlans: [10, 20], dstPort: 53 }, verdict: 1, counter: 2 },
    { name: 'IPv6 TCP allowed', packet: { ipVersion: 6 as const, proto: 'tcp' as const }, verdict: 2, counter: 0 },
  ])('$name', async ({ packet, verdict, counter }) => {
    const d = await firewall();
    const result = d.testRun('xdp_firewall', { dataIn: buildPacket(packet), repeat: 3 });
    expect(result.retval).toBe(verdict);
    expect(readU64(d.interp.map('verdicts').lookup(u32(counter)))).toBe(3);
  });

  test('a runt frame is malformed', async () => {
    const d = await firewall();
    expect(d.testRun('xdp_firewall', { dataIn: buildPacket().subarray(0, 20) }).retval).toBe(1);
    expect(readU64(d.interp.map('verdicts').lookup(u32(3)))).toBe(1);
  });
});

describe('the differential runner', () => {
  test('a run both engines stop for its budget agrees, though they stop at different pcs', async () => {
    // 2,000 iterations of 3 instructions: the interpreter's 1,000 instructions run out first at
    // one pc, the JIT's 1,000 back-edges later at another.
    const d = await DifferentialObject.load(objectOf('mov %r0, 0\n mov %r1, 2000\n loop:\n add %r0, 1\n sub %r1, 1\n jne %r1, 0, loop\n exit'), { budget: 1000 });
    expect(() => d.run('prog')).toThrow(BudgetExhaustedError);
  });

  test('trace lines are compared, and repeats of one line are held once', async () => {
    const dataIn = new Uint8Array(readFileSync(join(PROJECT_ROOT, 'examples', 'udp-ttl1.bin')));
    const lines: string[] = [];
    const d = await DifferentialObject.load(join(PROJECT_ROOT, 'examples', 'xdp_ttl.o'), { onTrace: (l) => lines.push(l) });
    expect(d.testRun('xdp_ttl', { dataIn, repeat: 1000 }).retval).toBe(1);
    expect(lines).toHaveLength(1000);
    expect(new Set(lines)).toEqual(new Set(['proto 17: ttl 1 expired, drop']));
    // Without onTrace, the lines land in the interpreter's runtime, as a lone runtime's would.
    const quiet = await DifferentialObject.load(join(PROJECT_ROOT, 'examples', 'xdp_ttl.o'));
    quiet.testRun('xdp_ttl', { dataIn });
    expect(quiet.interp.runtime.traceLines).toEqual(['proto 17: ttl 1 expired, drop']);
  });
});

describe('tail calls through a PROG_ARRAY', () => {
  test.for([
    { name: 'IPv4 runs entry, ipv4 and final', packet: { payload: 'x'.repeat(10) }, verdict: 2, stages: 3 },
    { name: 'IPv6 runs entry, ipv6 and final', packet: { ipVersion: 6 as const }, verdict: 2, stages: 3 },
    { name: 'a large frame is dropped by the final stage', packet: { payload: 'x'.repeat(1600) }, verdict: 1, stages: 3 },
    { name: 'TTL 0 stops in the ipv4 stage', packet: { ttl: 0 }, verdict: 1, stages: 2 },
  ])('$name', async ({ packet, verdict, stages }) => {
    const d = await DifferentialObject.load(fixture('tail_calls.o'));
    expect(d.testRun('entry', { dataIn: buildPacket(packet) }).retval).toBe(verdict);
    expect(new DataView(d.interp.map('scratch_map').lookup(u32(0))!.buffer).getUint32(0, true)).toBe(stages);
  });

  test('an empty slot falls through: the entry program goes on', async () => {
    const d = await DifferentialObject.load(fixture('tail_calls.o'));
    for (const obj of [d.interp, d.jit]) obj.map('stages').delete(u32(0));
    expect(d.testRun('entry', { dataIn: buildPacket() }).retval).toBe(2);
    expect(new DataView(d.interp.map('scratch_map').lookup(u32(0))!.buffer).getUint32(0, true)).toBe(1);
  });
});

describe('map-in-map', () => {
  test('the program updates the tenant map it looked up, and drops past the limit', async () => {
    const d = await DifferentialObject.load(fixture('map_in_map.o'));
    for (const obj of [d.interp, d.jit]) {
      const rt = obj.runtime;
      const limitsOf0 = rt.createMap({ type: 2, name: 'limit0', keySize: 4, valueSize: 4, maxEntries: 2 });
      limitsOf0.update(u32(0), u32(1));
      obj.map('limits').update(u32(0), u32(rt.mapId(limitsOf0)));
    }
    const packet = buildPacket({ dstMac: '02:00:00:00:00:04', srcMac: '02:00:0a:0b:0c:0d' });
    // The first sighting inserts the flow; the second counts it to 2, past the limit of 1.
    expect(d.testRun('map_in_map', { dataIn: packet }).retval).toBe(2);
    expect(d.testRun('map_in_map', { dataIn: packet }).retval).toBe(1);
    const flow = Uint8Array.from([0x0a, 0x0b, 0x0c, 0x0d]);
    expect(readU64(d.interp.map('tenant0').lookup(flow))).toBe(2);
    // Tenant 1 has no inner map: the program passes.
    expect(d.testRun('map_in_map', { dataIn: buildPacket({ dstMac: '02:00:00:00:00:05' }) }).retval).toBe(2);
  });
});

describe('system helpers', () => {
  const ASM = `
    call 5
    mov %r6, %r0
    call 7
    mov %r7, %r0
    call 8
    lsh %r0, 32
    add %r0, %r6
    add %r0, %r7
    exit`;

  test('the manual clock, the seeded random source and the CPU id are what the runtime says', async () => {
    for (const engine of ['interp', 'jit'] as const) {
      const rt = new Runtime({ engine, cpus: 4, clockStart: 1000n, seed: 7 });
      const obj = await rt.loadObject(objectOf(ASM));
      const first = obj.program('prog').run({ cpu: 3 }).r0;
      rt.clock.advance(5n);
      const second = obj.program('prog').run({ cpu: 3 }).r0;
      expect(first >> 32n).toBe(3n);
      expect((second - first) & 0xffffffffn).not.toBe(5n); // the random part moved too
      const again = await new Runtime({ engine, cpus: 4, clockStart: 1000n, seed: 7 }).loadObject(objectOf(ASM));
      expect(again.program('prog').run({ cpu: 3 }).r0).toBe(first);
    }
  });

  test('the manual clock starts an hour after boot, never at 0, and the same in every runtime', async () => {
    for (const engine of ['interp', 'jit'] as const) {
      const read = async () => (await new Runtime({ engine }).loadObject(objectOf('call 5\n exit'))).program('prog').run().r0;
      const first = await read();
      expect(first).toBe(DEFAULT_CLOCK_START);
      expect(first).toBe(3_600_000_000_000n);
      expect(await read()).toBe(first);
    }
  });

  test('the clock reads the same whether it is read as a number or, past 2^53 ns, as a BigInt', async () => {
    for (const engine of ['interp', 'jit'] as const) {
      const rt = new Runtime({ engine });
      const prog = (await rt.loadObject(objectOf('call 5\n exit'))).program('prog');
      rt.clock.setSince(5_000_000_000n, 123_456_789);
      expect(prog.run().r0).toBe(5_123_456_789n);
      // Past 2^53, where a number would round: the BigInt path, to the nanosecond.
      rt.clock.setSince((1n << 62n) + 1n, 2);
      expect(prog.run().r0).toBe((1n << 62n) + 3n);
      rt.clock.setSince(BigInt(Number.MAX_SAFE_INTEGER), 2);
      expect(prog.run().r0).toBe(BigInt(Number.MAX_SAFE_INTEGER) + 2n);
      rt.clock.set(0xffff_ffff_ffff_fffen);
      rt.clock.advance(1n);
      expect(prog.run().r0).toBe(0xffff_ffff_ffff_ffffn);
    }
  });

  test('a CPU the runtime does not have is refused', async () => {
    const obj = await new Runtime({ cpus: 2 }).loadObject(objectOf('mov %r0, 0\n exit'));
    expect(() => obj.program('prog').run({ cpu: 2 })).toThrow(/cpu 2 is not one of the runtime's 2 CPUs/);
  });

  test('bpf_trace_printk lines are captured with their formatting', async () => {
    // "n=%d x=%llx s=%s\n" with the string "ok" on the stack.
    const asm = `
      stdw [%r10-32], 0
      stdw [%r10-24], 0
      stdw [%r10-16], 0
      stb [%r10-8], 111
      stb [%r10-7], 107
      stb [%r10-6], 0
      mov %r1, %r10
      add %r1, -32
      stw [%r1+0], 1680162158
      stw [%r1+4], 624785440
      stw [%r1+8], 544762988
      stw [%r1+12], 1931820403
      sth [%r1+16], 10
      mov %r2, 18
      mov %r3, -5
      lddw %r4, 0x1234567890
      mov %r5, %r10
      add %r5, -8
      call 6
      exit`;
    for (const engine of ['interp', 'jit'] as const) {
      const lines: string[] = [];
      const rt = new Runtime({ engine, onTrace: (line, program) => lines.push(`${program?.name}: ${line}`) });
      const r = (await rt.loadObject(objectOf(asm))).program('prog').run();
      expect(lines).toEqual(['prog: n=-5 x=1234567890 s=ok\n']);
      expect(r.retval).toBe('n=-5 x=1234567890 s=ok\n'.length);
    }
  });
});

describe('the README example', () => {
  test('xdp_ttl.o decrements the TTL, fixes the checksum and logs, on both engines', async () => {
    const dataIn = new Uint8Array(readFileSync(join(PROJECT_ROOT, 'examples', 'udp.bin')));
    const lines: string[] = [];
    const d = await DifferentialObject.load(join(PROJECT_ROOT, 'examples', 'xdp_ttl.o'), { onTrace: (l) => lines.push(l) });
    const r = d.testRun('xdp_ttl', { dataIn });
    expect(r.retval).toBe(3);
    expect(r.dataOut[22]).toBe(dataIn[22]! - 1);
    // The IPv4 header checksum still verifies after the rewrite.
    const header = r.dataOut.subarray(14, 34);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
    // Both engines printed it; the lines are compared, then delivered once.
    expect(lines).toEqual(['proto 17: ttl now 63, forward']);
  });
});

describe('tracing programs through the runtime', () => {
  test('core_read.o: CO-RE resolved against the runtime BTF reads the simulated current task, on both engines', async () => {
    const d = await DifferentialObject.load(fixture('core_read.o'));
    for (const obj of [d.interp, d.jit]) {
      const tasks = obj.runtime.tasks;
      const init = tasks.spawn({ pid: 1, comm: 'init' });
      const shell = tasks.spawn({ pid: 500, comm: 'bash', parent: init });
      tasks.current = tasks.spawn({ pid: 1234, comm: 'worker', parent: shell, mm: { totalVm: 4242, startStack: 0n }, flags: 0x40 });
    }
    // A kprobe's context is a struct pt_regs (168 bytes on x86_64); this program does not read it.
    expect(d.run('core_read', { ctx: new Uint8Array(168) }).retval).toBe(0);
    const info = d.interp.typedMap('tasks').lookup(1234) as Record<string, unknown>;
    expect(info).toMatchObject({ pid: 1234, ppid: 500, gppid: 1, flags: 0x40, total_vm: 4242, comm: 'worker', has_missing_field: 0, pgid_value: 2 });
  });

  test('a missing CO-RE target fails the load under strictCore, naming the access', async () => {
    // A target BTF without task_struct at all.
    const { BtfBuilder } = await import('../../loader/btf-builder.js');
    const b = new BtfBuilder();
    b.int('int', 4, { signed: true });
    await expect(new Runtime({ btf: b.encode(), strictCore: true }).loadObject(fixture('core_read.o'))).rejects.toThrow(/core_read\.o: .*CO-RE .*task_struct/);
    // Without it, the relocations are poisoned as libbpf does; this program reaches a poisoned
    // instruction on every path, so the verifier refuses it, as Linux's does.
    const obj = await new Runtime({ btf: b.encode() }).loadObject(fixture('core_read.o'));
    expect(() => obj.program('core_read')).toThrow(/invalid func unknown#195896080/);
    expect((obj.failures.get('core_read') as { log?: string }).log).toMatch(/CO-RE relocation of this instruction failed/);
  });

  test('kprobes have no test run, as in Linux', async () => {
    const obj = await new Runtime().loadObject(fixture('core_read.o'));
    expect(() => obj.program('core_read').testRun({ dataIn: new Uint8Array(64) })).toThrow(/kprobe program, which has no test run/);
  });
});

describe('ring buffers, bpf_loop and the current task', () => {
  /** FNV-1a over at most 32 bytes, as ringbuf_loop.c hashes each argument. */
  const fnv = (s: string) => [...Buffer.from(s).subarray(0, 32)].reduce((h, b) => Math.imul(h ^ b, 16777619) >>> 0, 2166136261);

  test.for(['interp', 'jit'] as const)('ringbuf_loop.o on %s: an exec event with the arguments hashed in a bpf_loop callback', async (engine) => {
    const rt = new Runtime({ engine, clockStart: 5_000n });
    const obj = await rt.loadObject(fixture('ringbuf_loop.o'));
    rt.tasks.current = rt.tasks.spawn({ pid: 4321, comm: 'sh' });
    // argv in guest memory: three strings and a NULL-terminated pointer array.
    const args = ['ls', '-l', '/tmp'];
    const block = rt.memory.allocate(256, 'argv');
    let at = block.start + 64;
    args.forEach((a, i) => {
      rt.memory.view.setBigUint64(block.start + i * 8, BigInt(at), true);
      rt.memory.bytes.set(Buffer.from(`${a}\0`), at);
      at += a.length + 1;
    });
    const ctx = new Uint8Array(48);
    new DataView(ctx.buffer).setBigUint64(24, BigInt(block.start), true); // args->argv
    expect(obj.program('on_execve').run({ ctx }).retval).toBe(0);
    expect(obj.program('on_exit').run({ ctx: new Uint8Array(16) }).retval).toBe(0);

    const records: Uint8Array[] = [];
    (obj.map('events') as unknown as { drain(f: (r: Uint8Array) => void): number }).drain((r) => records.push(r));
    expect(records.map((r) => r.length)).toEqual([96, 16]);
    const ev = new DataView(records[0]!.buffer, records[0]!.byteOffset);
    expect(ev.getBigUint64(0, true)).toBe(5_000n);
    expect([ev.getUint32(8, true), ev.getUint32(12, true)]).toEqual([4321, 3]);
    expect(Buffer.from(records[0]!.subarray(16, 18)).toString()).toBe('sh');
    expect([0, 1, 2].map((i) => ev.getUint32(32 + i * 4, true))).toEqual(args.map(fnv));
    const exit = new DataView(records[1]!.buffer, records[1]!.byteOffset);
    expect([exit.getUint32(8, true), exit.getUint32(12, true)]).toEqual([4321, 1]);
  });
});

describe('every fixture, every program, on both engines', () => {
  const objects = readdirSync(join(PROJECT_ROOT, 'tests', 'fixtures')).filter((f) => f.endsWith('.o') && f !== 'all_opcodes.o');
  const packets = [buildPacket(), buildPacket({ proto: 'tcp', vlans: [3] }), buildPacket({ ipVersion: 6, proto: 'icmp' }), buildPacket({ ttl: 1, payload: 'x'.repeat(300) })];

  test('there are at least 15 C fixtures', () => {
    expect(objects.length).toBeGreaterThanOrEqual(15);
  });

  test.for(objects)('%s', async (name) => {
    const d = await DifferentialObject.load(fixture(name));
    expect(d.interp.programs.size).toBeGreaterThan(0);
    for (const [program, p] of d.interp.programs) {
      if (['xdp', 'sched_cls', 'socket_filter', 'cgroup_skb'].includes(p.type)) {
        // Lockstep throws EngineMismatchError on any difference in results or map contents.
        for (const dataIn of packets) d.testRun(program, { dataIn });
      } else {
        d.run(program, { ctx: new Uint8Array(256) });
      }
    }
  });
});

describe('XDP redirects', () => {
  test('a test run reports where XDP_REDIRECT was going, without carrying it out', async () => {
    const d = await DifferentialObject.load(fixture('xdp_redirect.o'));
    for (const obj of [d.interp, d.jit]) obj.typedMap('ports').update(0, { ifindex: 1 });
    const run = (c: number, port: number) => d.testRun('xdp_redirect', { dataIn: buildPacket({ dstMac: `02:00:00:00:00:0${c}`, dstPort: port }) });
    expect(run(0, 7)).toMatchObject({ retval: 4, redirect: { target: 7, flags: 0 } });
    expect(run(2, 0)).toMatchObject({ retval: 4, redirect: { target: 0, map: 'ports', flags: 0 } });
    expect(run(3, 5)).toMatchObject({ retval: 4, redirect: { target: 5, map: 'ports', flags: 8 | 16 } });
    // A key with no target falls back to the action in the flags, and reports no redirect.
    const fallback = run(2, 5);
    expect(fallback.retval).toBe(2);
    expect(fallback.redirect).toBeUndefined();
  });

  test('repeated runs report the last run\'s redirect, and none when the last run made none', async () => {
    const d = await DifferentialObject.load(fixture('xdp_redirect.o'));
    for (const obj of [d.interp, d.jit]) obj.typedMap('ports').update(0, { ifindex: 1 });
    const run = (c: number, port: number) => d.testRun('xdp_redirect', { dataIn: buildPacket({ dstMac: `02:00:00:00:00:0${c}`, dstPort: port }), repeat: 3 });
    expect(run(0, 7)).toMatchObject({ retval: 4, redirect: { target: 7, flags: 0 } });
    expect(run(2, 5).redirect).toBeUndefined();
  });
});


describe('bpf_perf_event_output with packet bytes', () => {
  const program = (ctxLength: number) => `
    mov %r6, %r1
    stdw [%r10-8], 287454020
    mov %r1, %r6
    lddw %r2, map:events
    lddw %r3, ${(BigInt(ctxLength) << 32n) | 0xffffffffn}
    mov %r4, %r10
    add %r4, -8
    mov %r5, 8
    call 25
    exit`;

  test.for(['interp', 'jit'] as const)('XDP on %s: the first (flags >> 32) packet bytes follow the sample; more than the packet is -EFAULT', async (engine) => {
    const rt = new Runtime({ engine });
    const maps = [{ name: 'events', type: 4, keySize: 4, valueSize: 4, maxEntries: 1 }];
    type Events = { open(i: number): void; drain(f: (e: { data?: Uint8Array }) => void): number };
    const packet = buildPacket();
    const ok = await rt.loadObject(objectOf(program(16), maps));
    (ok.map('events') as unknown as Events).open(0);
    expect(ok.program('prog').testRun({ dataIn: packet }).retval).toBe(0);
    const tooLong = await rt.loadObject(objectOf(program(packet.length + 1), maps));
    (tooLong.map('events') as unknown as Events).open(0);
    expect(tooLong.program('prog').testRun({ dataIn: packet }).retval).toBe(-14 >>> 0);
    const seen: Uint8Array[] = [];
    (ok.map('events') as unknown as Events).drain((e) => e.data && seen.push(e.data));
    expect(seen).toEqual([Uint8Array.from([0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0, ...packet.subarray(0, 16)])]);
  });
});
