// The tc helpers that reshape an skb and carry tunnel metadata (vlan_push/pop, change_proto/type/
// tail/head, adjust_room, get/set_tunnel_key/opt), on both engines, against what Linux 6.18 returned
// for the same cases: tests/fixtures/golden/skb-helpers.json, recorded by
// scripts/kernel-oracle/skb-helpers.mjs --record. Then what the verifier makes of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { createExecutor, type EngineKind } from '../../runtime/engine.js';
import { helperTable } from '../../helpers/table.js';
import { GuestMemory } from '../../runtime/memory.js';
import { SkbRunner, SkbTestRunError } from '../../runtime/skb.js';
import { verify } from '../../verifier/index.js';
import { Runtime } from '../../runtime/runtime.js';
import { cases, digest } from '../../scripts/kernel-oracle/skb-helpers.mjs';
import { BE, calls, ipv4 } from '../../scripts/kernel-oracle/skb-helper-programs.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

interface Recorded { name: string; rejected?: boolean; errno?: number; retval?: number; dataOut?: string; ctxOut?: string }
interface Case { name: string; type?: 'socket_filter' | 'sched_cls' | 'cgroup_skb'; asm: string; dataIn: Uint8Array; ctxIn?: Uint8Array; ctxOut?: boolean; repeat?: number; flags?: number }

const RECORDED: Recorded[] = JSON.parse(readFileSync(join(PROJECT_ROOT, 'tests', 'fixtures', 'golden', 'skb-helpers.json'), 'utf8'));
const CASES: Case[] = cases();
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '-');
const ENGINES: readonly EngineKind[] = ['interp', 'jit'];

function tcHelpers(runner: SkbRunner) {
  return helperTable([...runner.helpers, ...runner.tcHelpers]);
}

async function run(c: Case, engine: EngineKind): Promise<Omit<Recorded, 'name'>> {
  const runtime = new Runtime();
  const type = c.type ?? 'sched_cls';
  const exec = await createExecutor(assemble(c.asm), engine, { memory: runtime.memory, helpers: runtime.helpersFor(type) });
  try {
    const r = runtime.skb.testRun(exec, type, { dataIn: c.dataIn, dataSizeOut: 65536, ctxIn: c.ctxIn, ctxOut: c.ctxOut, ctxSizeOut: 192, repeat: c.repeat, flags: c.flags });
    return r.errno ? { errno: r.errno } : { errno: 0, retval: r.retval, dataOut: digest(r.dataOut), ctxOut: hex(r.ctxOut) };
  } catch (err) {
    if (err instanceof SkbTestRunError) return { errno: err.errno };
    throw err;
  } finally {
    exec.dispose();
  }
}

test('the recording has every case, and covers each helper', () => {
  expect(RECORDED.map((r) => r.name)).toEqual(CASES.map((c) => c.name));
  const helpers = new Set(CASES.map((c) => c.name.split(':')[0]));
  expect([...helpers].sort()).toEqual(['adjust_room', 'change_head', 'change_proto', 'change_tail', 'change_type', 'clone_redirect', 'get_cgroup_classid',
    'get_current_ancestor_cgroup_id', 'get_current_cgroup_id', 'get_current_uid_gid', 'get_netns_cookie', 'get_route_realm', 'get_tunnel_key', 'get_tunnel_opt',
    'set_tunnel_key', 'set_tunnel_opt', 'sk_ancestor_cgroup_id', 'sk_cgroup_id', 'skb_ancestor_cgroup_id', 'skb_cgroup_classid', 'skb_cgroup_id',
    'skb_get_xfrm_state', 'vlan_pop', 'vlan_push']);
});

describe.for(ENGINES)('skb helpers against Linux on %s', (engine) => {
  test.for(CASES.map((c, i) => [c.name, i] as const))('%s', async ([, i]) => {
    const c = CASES[i]!;
    const { name, ...kernel } = RECORDED[i]!;
    expect(name).toBe(c.name);
    if (kernel.rejected) {
      // Linux's verifier refused it (a zero size): so does ours.
      const type = c.type ?? 'sched_cls';
      expect(verify({ name: 'case', type, insns: assemble(c.asm), helpers: new Runtime().helpersFor(type) }).accepted).toBe(false);
      return;
    }
    expect(await run(c, engine)).toEqual(kernel);
  });
});

describe('skb helpers and the verifier', () => {
  const runtime = new Runtime();
  const check = (asm: string, type: 'sched_cls' | 'socket_filter' = 'sched_cls') => verify({ name: 't', type, insns: assemble(asm), helpers: runtime.helpersFor(type) });

  test.for([18, 19, 31, 38, 43, 50])('helper %i moves the packet: packet pointers from before the call are invalid after it', (id) => {
    const asm = `
      mov %r6, %r1
      ldxw %r7, [%r6+76]
      ldxw %r8, [%r6+80]
      mov %r2, %r7
      add %r2, 14
      jgt %r2, %r8, out
      mov %r1, %r6
      mov %r2, 0
      mov %r3, 0
      mov %r4, 0
      call ${id}
      ldxb %r0, [%r7+0]
    out:
      mov %r0, 0
      exit`;
    const result = check(asm);
    expect(result.accepted).toBe(false);
    expect(result.error?.message).toMatch(/invalid mem access|R7/);
  });

  test('bpf_skb_change_type does not: the pointers stay valid', () => {
    const asm = `
      mov %r6, %r1
      ldxw %r7, [%r6+76]
      ldxw %r8, [%r6+80]
      mov %r2, %r7
      add %r2, 14
      jgt %r2, %r8, out
      mov %r1, %r6
      mov %r2, 0
      call 32
      ldxb %r0, [%r7+0]
    out:
      mov %r0, 0
      exit`;
    expect(check(asm).accepted).toBe(true);
  });

  test('socket filters do not get the tc helpers (Linux sk_filter_func_proto)', () => {
    const table = runtime.helpersFor('socket_filter');
    for (const id of [18, 19, 20, 21, 29, 30, 31, 32, 38, 43, 50]) expect(table.has(id)).toBe(false);
    for (const id of [18, 19, 20, 21, 29, 30, 31, 32, 38, 43, 50]) expect(runtime.helpersFor('sched_cls').has(id)).toBe(true);
    expect(runtime.helpersFor('cgroup_skb').has(50)).toBe(false);
  });
});

describe('the frame after reshaping', () => {
  test.for(ENGINES)('%s: a second vlan_push moves the first tag into the packet, and legacy loads follow the headers', async (engine) => {
    const memory = new GuestMemory();
    const runner = new SkbRunner(memory);
    const exec = await createExecutor(assemble(calls([[18, BE.q, 10], [18, BE.ad, 20]], { loads: true })), engine, { memory, helpers: tcHelpers(runner) });
    const r = runner.testRun(exec, 'sched_cls', { dataIn: ipv4(), ctxOut: true });
    // The tag 0x8100/10 sits after the MAC addresses; 802.1ad/20 is offloaded.
    expect(hex(r.dataOut.subarray(12, 18))).toBe('8100000a0800');
    const cb = new DataView(r.ctxOut!.buffer, r.ctxOut!.byteOffset + 48);
    expect(cb.getUint32(4, true)).toBe(0x81);
    // vlan_proto | pkt_type << 16 (PACKET_OTHERHOST: the frame is not for loopback's address).
    expect(cb.getUint32(12, true)).toBe(BE.ad | (3 << 16));
    exec.dispose();
  });
});
