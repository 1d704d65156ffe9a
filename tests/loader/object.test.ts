// The object pipeline on every committed fixture: programs by section with libbpf's types,
// subprograms linked so every call and function pointer lands on a linked function, map and
// global-data references resolved, map definitions read from `maps`, `.maps` (BTF) and data
// sections; and malformed objects rejected with typed errors.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadObjectSpec, type ObjectSpec } from '../../loader/object.js';
import { completeDefinition } from '../../loader/map-specs.js';
import { validate, branchTarget } from '../../isa/validate.js';
import { Op } from '../../isa/opcodes.js';
import { BpfError } from '../../isa/errors.js';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURES = join(PROJECT_ROOT, 'tests', 'fixtures');
const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o') && f !== 'all_opcodes.o').sort();
const load = (f: string): ObjectSpec => loadObjectSpec(new Uint8Array(readFileSync(join(FIXTURES, f))), f);

describe('object loader', () => {
  test('finds the fixtures', () => {
    expect(objects.length).toBeGreaterThanOrEqual(16);
  });

  test.for(objects)('%s: every program links into a valid program whose calls land on its functions', (file) => {
    const spec = load(file);
    expect(spec.license).toBe('GPL');
    expect(spec.programs.length).toBeGreaterThan(0);
    for (const p of spec.programs) {
      validate(p.insns);
      const entries = new Set(p.functions.map((f) => f.pc));
      expect(p.functions[0]!.pc).toBe(0);
      expect(p.functions[0]!.name).toBe(p.name);
      for (const insn of p.insns) {
        if (insn.op === Op.CallLocal || insn.op === Op.LddwFunc) expect(entries.has(branchTarget(insn)!), `${p.name} pc ${insn.pc}`).toBe(true);
      }
      for (const ref of p.references) {
        expect(spec.maps.some((m) => m.name === ref.map)).toBe(true);
        expect(p.insns.find((i) => i.pc === ref.pc)!.op).toBe(Op.Lddw);
      }
      const slots = p.functions.reduce((n, f) => n + f.slots, 0);
      const last = p.insns.at(-1)!;
      expect(last.pc + (last.immHi === undefined ? 1 : 2)).toBe(slots);
    }
  });

  test('program types and sections follow libbpf', () => {
    const types = (f: string) => load(f).programs.map((p) => `${p.name}:${p.section}:${p.type}`);
    expect(types('xdp_firewall.o')).toEqual(['xdp_firewall:xdp:xdp']);
    expect(types('tc_nat.o')).toEqual(['tc_nat:tc:sched_cls']);
    expect(types('socket_filter.o')).toEqual(['socket_filter:socket:socket_filter']);
    expect(types('global_data.o')).toEqual(['global_data:cgroup_skb/egress:cgroup_skb']);
    expect(types('core_read.o')).toEqual(['core_read:kprobe/do_nanosleep:kprobe']);
    expect(load('tail_calls.o').programs.map((p) => p.name).sort()).toEqual(['entry', 'stage_final', 'stage_ipv4', 'stage_ipv6']);
  });

  test('BTF-defined maps: types, sizes, inner maps and initial values', () => {
    const maps = (f: string) => Object.fromEntries(load(f).maps.map((m) => [m.name, m]));
    const fw = maps('xdp_firewall.o');
    expect(fw.blocked_v4).toMatchObject({ type: 11, keySize: 8, valueSize: 4, maxEntries: 1024, flags: 1 });
    expect(fw.denied_ports).toMatchObject({ type: 1, keySize: 4, valueSize: 8, maxEntries: 256 });
    const tail = maps('tail_calls.o');
    expect(tail.stages).toMatchObject({ type: 3, keySize: 4, valueSize: 4, maxEntries: 3 });
    expect(tail.stages!.initialValues).toEqual(['stage_ipv4', 'stage_ipv6', 'stage_final']);
    const mim = maps('map_in_map.o');
    expect(mim.tenants).toMatchObject({ type: 12, valueSize: 4, initialValues: ['tenant0'] });
    expect(mim.tenants!.innerMap).toMatchObject({ type: 1, keySize: 4, valueSize: 8 });
    expect(maps('ringbuf_loop.o').events).toMatchObject({ type: 27, maxEntries: 262144 });
  });

  test('ring buffer sizes are rounded as libbpf rounds them (adjust_ringbuf_sz), user ring buffers too', () => {
    const def = { name: 'rb', keySize: 0, valueSize: 0, flags: 0, mapExtra: 0n, pinning: 0, section: '.maps', offset: 0 };
    for (const type of [27, 31]) {
      expect(completeDefinition({ ...def, type, maxEntries: 5000 }).maxEntries).toBe(8192);
      expect(completeDefinition({ ...def, type, maxEntries: 4096 }).maxEntries).toBe(4096);
      expect(completeDefinition({ ...def, type, maxEntries: 0 }).maxEntries).toBe(0);
    }
  });

  test('global data: each section is a one-entry array map with its initial bytes', () => {
    const spec = load('global_data.o');
    expect(spec.maps.map((m) => m.name)).toEqual(['.rodata', '.data', '.data.custom', '.rodata.cst16', '.bss', '.rodata.str1.1']);
    for (const m of spec.maps) expect(m).toMatchObject({ type: 2, keySize: 4, maxEntries: 1 });
    expect(spec.maps.find((m) => m.name === '.bss')!.data!.every((b) => b === 0)).toBe(true);
    expect(new TextDecoder().decode(spec.maps.find((m) => m.name === '.rodata.str1.1')!.data!)).toContain('\0');
    const refs = spec.programs[0]!.references;
    expect(refs.every((r) => r.kind === 'value')).toBe(true);
    // `last_len` lives at offset 8 of .data and `dropped` at 0x20 of .bss: references carry the symbol's offset.
    expect(refs.some((r) => r.map === '.data' && r.offset === 8)).toBe(true);
    expect(refs.some((r) => r.map === '.bss' && r.offset === 0x20)).toBe(true);
  });

  test('bpf-to-bpf calls pull the .text subprograms in after the entry function', () => {
    const p = load('bpf2bpf_calls.o').programs[0]!;
    expect(p.functions.length).toBeGreaterThan(1);
    expect(p.functions.slice(1).every((f) => f.section === '.text')).toBe(true);
  });

  test('a bpf_loop callback becomes a function pointer (lddw src 4) to a linked function', () => {
    const p = load('ringbuf_loop.o').programs.find((x) => x.name === 'on_execve')!;
    const pointer = p.insns.find((i) => i.op === Op.LddwFunc)!;
    expect(p.functions.find((f) => f.pc === branchTarget(pointer))!.name).toBe('hash_arg');
  });

  test('malformed objects give typed errors naming the file', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'xdp_firewall.o')));
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let rejected = 0;
    for (let i = 0; i < 1500; i++) {
      const copy = bytes.slice(0, i % 3 === 0 ? Math.floor(rand() * bytes.length) : bytes.length);
      for (let k = 0; k < 4; k++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
      try {
        loadObjectSpec(copy, 'mutant.o');
      } catch (err) {
        expect(err).toBeInstanceOf(BpfError);
        expect((err as Error).message.startsWith('mutant.o')).toBe(true);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('kernel function calls', () => {
  test('a call to an extern function becomes a call by BTF id (src 2), recorded with its name for the runtime to resolve', () => {
    const spec = load('kfunc_dynptr.o');
    const p = spec.programs.find((q) => q.name === 'xdp_dynptr_ttl')!;
    const calls = p.insns.filter((i) => i.op === Op.CallBtf);
    expect(calls.map((i) => [i.src, i.imm])).toEqual([[2, 0], [2, 0], [2, 0]]);
    expect(p.kfuncCalls?.map((k) => k.name)).toEqual(['bpf_dynptr_from_xdp', 'bpf_dynptr_slice', 'bpf_dynptr_slice']);
    expect(p.kfuncCalls?.map((k) => k.pc)).toEqual(calls.map((i) => i.pc));
    expect(spec.programs.find((q) => q.name === 'xdp_direct_ttl')!.kfuncCalls).toBeUndefined();
  });
});
