// Cgroup storage from cgroup_skb programs (tests/fixtures/cgroup_storage.c): bpf_get_local_storage
// gives each test run its own storage, shared by its repeats, as Linux's BPF_PROG_TEST_RUN does
// (scripts/kernel-oracle/map-kinds.mjs compares the same sequence with the kernel); the verifier
// refuses non-zero flags and other maps, as Linux's does.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DifferentialObject } from '../../runtime/differential.js';
import { buildPacket } from '../../net/packets.js';
import { verify } from '../../verifier/verifier.js';
import { assemble } from '../../isa/assembler.js';
import { Runtime } from '../../runtime/runtime.js';
import { PROJECT_ROOT } from '../support/suite.js';

const OBJECT = join(PROJECT_ROOT, 'tests', 'fixtures', 'cgroup_storage.o');

describe('cgroup storage', () => {
  test.for(['count', 'count_per_cpu'])('%s: each test run counts from zero in its own storage, on both engines', async (program) => {
    const d = await DifferentialObject.load(OBJECT);
    const dataIn = buildPacket();
    // The program returns 1 once its counter passes 2 (the kernel gives 0 1 0 0 1 0 here).
    expect([1, 3, 1, 2, 5, 1].map((repeat) => d.testRun(program, { dataIn, repeat }).retval)).toEqual([0, 1, 0, 0, 1, 0]);
    // User space sees no storage: none is attached to a cgroup.
    expect(d.interp.map(program === 'count' ? 'packets' : 'packets_per_cpu').size).toBe(0);
  });

  test('bpf_get_local_storage: flags must be 0, and the map a cgroup storage', () => {
    const helpers = new Runtime().helpersFor('cgroup_skb');
    const storage = { name: 'st', type: 19, keySize: 16, valueSize: 8, maxEntries: 0, flags: 0, readOnly: false };
    const hash = { name: 'h', type: 1, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, readOnly: false };
    const run = (flags: number, map: typeof storage) => verify({
      name: 'p', type: 'cgroup_skb', helpers,
      insns: assemble(`lddw %r1, 0x1000\nmov %r2, ${flags}\ncall 81\nldxdw %r0, [%r0+0]\nand %r0, 1\nexit`),
      maps: new Map([[0, { map, kind: 'map' as const, offset: 0 }]]),
    });
    expect(run(0, storage).accepted).toBe(true);
    expect(run(1, storage).error?.report.message).toBe("get_local_storage() doesn't support non-zero flags");
    expect(run(0, hash).error?.report.message).toMatch(/cannot pass map_type 1 into func bpf_get_local_storage#81/);
  });
});
