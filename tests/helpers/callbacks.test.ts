// Helpers that call back into the program (bpf_loop, bpf_for_each_map_elem) on both engines and
// compared: iteration counts, early stops, nesting and the frame limit, the callback's own frame,
// callee-saved registers, budgets, tail calls refused, per-CPU values, Linux's errnos.
import { describe, expect, test, vi } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { BPF_MAX_LOOPS, callbackHelpers, type CallbackHelperEnvironment } from '../../helpers/callbacks.js';
import { HelperCall, helperTable, type HelperSpec } from '../../helpers/table.js';
import { createMap, Errno, MapType, type BpfMap, type MapSpec } from '../../maps/index.js';
import { createExecutor, type EngineName } from '../../runtime/engine.js';
import {
  BudgetExhaustedError, CallbackTargetError, CallDepthError, TailCallInCallbackError, UninitializedRegisterError,
} from '../../runtime/execution-errors.js';
import { GuestMemory } from '../../runtime/memory.js';

const ENGINES: readonly EngineName[] = ['interp', 'jit', 'both'];

/** r0 of a helper that returns a negative errno. */
const errno = (e: number) => BigInt.asUintN(64, BigInt(-e));
/** The same in the high half of r0, where the tests put a helper's result. */
const errnoHigh = (e: number) => BigInt.asUintN(32, BigInt(-e));

/** A guest memory with maps reachable through handle addresses, as a runtime binds them. */
class World {
  readonly memory = new GuestMemory();
  private readonly maps = new Map<number, BpfMap>();
  cpu = 0;
  readonly env: CallbackHelperEnvironment = { mapAt: (a) => this.maps.get(a), cpu: () => this.cpu };

  /** Creates a map and returns it with its handle address. */
  map(spec: MapSpec, cpus = 1): { map: BpfMap; handle: number } {
    const map = createMap(this.memory, spec, { cpus });
    const handle = this.memory.allocate(8, `handle of ${spec.name}`, { writable: false }).start;
    this.maps.set(handle, map);
    return { map, handle };
  }

  async run(engine: EngineName, asm: string, options: { extra?: HelperSpec[]; budget?: number; args?: (number | bigint)[] } = {}) {
    const helpers = helperTable([...callbackHelpers(this.env), ...(options.extra ?? [])]);
    const executor = await createExecutor(assemble(asm), engine, { memory: this.memory, helpers, ...(options.budget ? { budget: options.budget } : {}) });
    try {
      return executor.run({ args: options.args ?? [] });
    } finally {
      executor.dispose();
    }
  }
}

/** bpf_loop(n, cb, &sum on the stack, 0); returns iterations << 32 | sum. cb adds its index and stops after index `stop`. */
const sumLoop = (n: number | string, stop: number, flags = 0) => `
  stdw [%r10-8], 0
  mov %r1, ${n}
  lddw %r2, func cb
  mov %r3, %r10
  add %r3, -8
  mov %r4, ${flags}
  call 181
  lsh %r0, 32
  ldxdw %r1, [%r10-8]
  or %r0, %r1
  exit
cb:
  ldxdw %r3, [%r2+0]
  add %r3, %r1
  stxdw [%r2+0], %r3
  mov %r0, 0
  jlt %r1, ${stop}, +1
  mov %r0, 1
  exit`;

describe.for(ENGINES)('bpf_loop (%s)', (engine) => {
  test('calls back nr_loops times with the index and the context, writing the caller\'s stack through it', async () => {
    const r = await new World().run(engine, sumLoop(10, 100));
    expect(r.r0).toBe((10n << 32n) | 45n);
  });

  test('the engine runs the loop itself, as Linux inlines it: the helper never calls back through the host', async () => {
    const callFunction = vi.spyOn(HelperCall.prototype, 'callFunction');
    try {
      expect((await new World().run(engine, sumLoop(1000, 2000))).r0).toBe((1000n << 32n) | 499500n);
      expect(callFunction).not.toHaveBeenCalled();
    } finally {
      callFunction.mockRestore();
    }
  });

  test('nr_loops is a u32: the high half of r1 is ignored, as the helper ignores it', async () => {
    expect((await new World().run(engine, sumLoop('0x100000003', 100).replace('mov %r1, 0x100000003', 'lddw %r1, 0x100000003'))).r0).toBe((3n << 32n) | 3n);
  });

  test('a callback returning 1 stops the loop, counted', async () => {
    // Indexes 0..4 run; the one at 4 returns 1.
    expect((await new World().run(engine, sumLoop(10, 4))).r0).toBe((5n << 32n) | 10n);
  });

  test('zero loops calls nothing', async () => {
    expect((await new World().run(engine, sumLoop(0, 100))).r0).toBe(0n);
  });

  test('flags other than 0 give -EINVAL, more than 1 << 23 loops -E2BIG, before any call', async () => {
    const world = new World();
    expect((await world.run(engine, sumLoop(10, 100, 1))).r0).toBe(errnoHigh(Errno.EINVAL) << 32n);
    const tooMany = `mov %r1, ${BPF_MAX_LOOPS + 1}\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nexit`;
    expect((await world.run(engine, tooMany)).r0).toBe(errno(Errno.E2BIG));
    // Flags are checked first, as in Linux.
    expect((await world.run(engine, tooMany.replace('mov %r4, 0', 'mov %r4, 2'))).r0).toBe(errno(Errno.EINVAL));
  });

  test('the callback runs in its own frame below the caller, r6-r9 of the caller survive, r1-r5 are its arguments', async () => {
    const r = await new World().run(engine, `
      mov %r6, 6
      mov %r7, 7
      mov %r8, 8
      mov %r9, 9
      stdw [%r10-8], 1234
      mov %r1, 2
      lddw %r2, func cb
      mov %r3, %r10
      mov %r4, 0
      call 181
      ldxdw %r1, [%r10-8]
      ldxdw %r2, [%r10-16]
      jne %r2, 512, fail
      jne %r1, 1234, fail
      mov %r0, %r6
      add %r0, %r7
      add %r0, %r8
      add %r0, %r9
      exit
    fail:
      mov %r0, -1
      exit
    cb:
      mov %r6, 0
      mov %r7, 0
      mov %r8, 0
      mov %r9, 0
      stdw [%r10-8], 99
      mov %r3, %r2
      sub %r3, %r10
      stxdw [%r2-16], %r3
      mov %r0, 0
      exit`);
    // The callback's [r10-8] is its own slot; the caller's r10 is 512 above the callback's.
    expect(r.r0).toBe(30n);
  });

  test('callbacks nest: a bpf_loop inside a callback', async () => {
    const r = await new World().run(engine, `
      stdw [%r10-8], 0
      mov %r1, 3
      lddw %r2, func outer
      mov %r3, %r10
      add %r3, -8
      mov %r4, 0
      call 181
      ldxdw %r0, [%r10-8]
      exit
    outer:
      mov %r3, %r2
      add %r1, 1
      lddw %r2, func inner
      mov %r4, 0
      call 181
      mov %r0, 0
      exit
    inner:
      ldxdw %r3, [%r2+0]
      add %r3, 1
      stxdw [%r2+0], %r3
      mov %r0, 0
      exit`);
    // Outer indexes 0, 1, 2 run 1, 2 and 3 inner iterations.
    expect(r.r0).toBe(6n);
  });

  test('every call of one loop starts in the same frame, whatever helpers the callbacks call', async () => {
    // cb checks that it is 512 below the caller, then calls a helper of its own (a nested loop).
    const r = await new World().run(engine, `
      stdw [%r10-8], 0
      mov %r1, 3
      lddw %r2, func cb
      mov %r3, %r10
      mov %r4, 0
      call 181
      ldxdw %r0, [%r10-8]
      exit
    cb:
      mov %r3, %r2
      sub %r3, %r10
      jeq %r3, 512, +2
      ldxdw %r4, [%r2-8]
      stxdw [%r2-8], %r3
      mov %r3, %r2
      mov %r1, 1
      lddw %r2, func inner
      mov %r4, 0
      call 181
      mov %r0, 0
      exit
    inner:
      mov %r0, 0
      exit`);
    expect(r.r0).toBe(0n);
  });

  test('callbacks count toward the 8-frame limit', async () => {
    // Each callback loops once more into itself while the counter in ctx is below `levels`.
    const nest = (levels: number) => `
      stdw [%r10-8], 0
      mov %r1, 1
      lddw %r2, func cb
      mov %r3, %r10
      add %r3, -8
      mov %r4, 0
      call 181
      ldxdw %r0, [%r10-8]
      exit
    cb:
      ldxdw %r3, [%r2+0]
      add %r3, 1
      stxdw [%r2+0], %r3
      mov %r0, 0
      jge %r3, ${levels}, done
      mov %r1, 1
      mov %r3, %r2
      lddw %r2, func cb
      mov %r4, 0
      call 181
      mov %r0, 0
    done:
      exit`;
    // The main frame and 7 callback frames fit; an 8th callback frame does not.
    expect((await new World().run(engine, nest(7))).r0).toBe(7n);
    const err = await new World().run(engine, nest(8)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallDepthError);
    // Reported at the bpf_loop call inside the callback (slot 20).
    expect((err as CallDepthError).pc).toBe(20);
  });

  test('a tail call inside a callback is a typed error', async () => {
    const tailCall: HelperSpec = {
      id: 12, name: 'bpf_tail_call', proto: { ret: 'integer', args: ['ptr_to_ctx', 'const_map_ptr', 'anything'] },
      impl: (call) => call.requestTailCall('next', call.arg(1)),
    };
    const asm = 'mov %r1, 3\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r2, 0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit';
    const err = await new World().run(engine, asm, { extra: [tailCall] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TailCallInCallbackError);
    expect((err as TailCallInCallbackError).pc).toBe(9);
  });

  test('a callback that is no address-taken function is a typed error at the helper call', async () => {
    const world = new World();
    // A plain number, and a function pointer's tag on a slot that is no address-taken function.
    for (const pointer of ['5', '0x100000001']) {
      const err = await world.run(engine, `mov %r1, 1\nlddw %r2, ${pointer}\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nlddw %r0, func f\nf:\nmov %r0, 0\nexit`).catch((e: unknown) => e);
      expect(err, pointer).toBeInstanceOf(CallbackTargetError);
      expect((err as CallbackTargetError).pc).toBe(5);
    }
  });

  test('a helper that ends the program inside a callback ends the whole program', async () => {
    // Helper 5 stops the program with r0 = its argument (uBPF's unwind, as in the conformance suite).
    const unwind: HelperSpec = { id: 5, name: 'unwind', proto: { ret: 'integer', args: ['anything'] }, impl: (call) => { call.returnNumber(call.argU32(1) + 100); call.stopRequested = true; } };
    const r = await new World().run(engine, 'mov %r6, 1\nmov %r1, 3\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 1\nexit\ncb:\ncall 5\nmov %r0, 0\nexit', { extra: [unwind] });
    expect(r.r0).toBe(100n);
  });

  test('a legacy packet load out of the packet inside a callback ends the whole program with r0 = 0', async () => {
    const r = await new World().run(engine, 'mov %r1, 3\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 1\nexit\ncb:\nldabsb 4\nmov %r0, 0\nexit');
    expect(r.r0).toBe(0n);
  });
});

describe('budgets', () => {
  const spin = 'mov %r1, 100000\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nmov %r1, 10\nloop:\nsub %r1, 1\njne %r1, 0, loop\nexit';

  test('callback instructions count against the interpreter\'s budget', async () => {
    const err = await new World().run('interp', spin, { budget: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExhaustedError);
    // It runs out inside the callback (slots 8-12).
    expect((err as BudgetExhaustedError).pc).toBeGreaterThanOrEqual(8);
    const ok = await new World().run('interp', sumLoop(3, 100), { budget: 1000 });
    // 11 in the main program, 6 a callback call.
    expect(ok.instructions).toBe(11 + 3 * 6);
  });

  test('each callback and its loop back edges spend the JIT\'s budget', async () => {
    await expect(new World().run('jit', spin, { budget: 5000 })).rejects.toThrow(BudgetExhaustedError);
    // 10 callbacks with no loop fit in a budget of 10, not in 9.
    expect((await new World().run('jit', sumLoop(10, 100), { budget: 10 })).r0).toBe((10n << 32n) | 45n);
    await expect(new World().run('jit', sumLoop(10, 100), { budget: 9 })).rejects.toThrow(BudgetExhaustedError);
  });

  test('on the JIT, a loop around bpf_loop and its callbacks spend one budget', async () => {
    // 3 rounds of 4 callbacks: 2 back edges and 12 callbacks.
    const asm = 'mov %r6, 3\nouter:\nmov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nsub %r6, 1\njne %r6, 0, outer\nexit\ncb:\nmov %r0, 0\nexit';
    expect((await new World().run('jit', asm, { budget: 14 })).r0).toBe(4n);
    await expect(new World().run('jit', asm, { budget: 13 })).rejects.toThrow(BudgetExhaustedError);
  });
});

describe('register checks', () => {
  test('the interpreter catches a callback reading a register it never wrote, though its caller did', async () => {
    const asm = 'mov %r6, 1\nmov %r1, 1\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, %r6\nexit';
    const err = await new World().run('interp', asm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UninitializedRegisterError);
    expect((err as UninitializedRegisterError).pc).toBe(8);
  });
});

describe('HelperCall.callFunction', () => {
  test.for(['interp', 'jit'] as const)('passes up to 5 arguments, returns r0, and leaves the helper\'s own arguments readable (%s)', async (engine) => {
    const seen: bigint[] = [];
    const probe: HelperSpec = {
      id: 0x20000, name: 'probe', proto: { ret: 'integer', args: ['ptr_to_func', 'anything'] },
      impl: (call) => {
        const r0 = call.callFunction(call.arg(1), [1, 2n, 3, -1, 2 ** 40]);
        seen.push(r0, call.arg(2));
        call.returnBigInt(r0 + call.arg(2));
      },
    };
    // f returns r1 + r2 + r3 + r4 + (r5 >> 40): 1 + 2 + 3 - 1 + 1.
    const asm = 'lddw %r1, func f\nmov %r2, 1000\ncall 0x20000\nexit\nf:\nmov %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nrsh %r5, 40\nadd %r0, %r5\nexit';
    const r = await new World().run(engine, asm, { extra: [probe] });
    expect(seen).toEqual([6n, 1000n]);
    expect(r.r0).toBe(1006n);
  });
});

describe.for(ENGINES)('bpf_for_each_map_elem (%s)', (engine) => {
  /** for_each(map, cb, &acc, flags): cb adds key * 1000 + value to acc, stops once acc >= `stopAt`; r0 = visited << 32 | acc. cb checks r1 is the map. */
  const sumMap = (handle: number, stopAt = 1 << 30, flags = 0) => `
    stdw [%r10-8], 0
    lddw %r1, ${handle}
    lddw %r2, func cb
    mov %r3, %r10
    add %r3, -8
    mov %r4, ${flags}
    call 164
    lsh %r0, 32
    ldxdw %r1, [%r10-8]
    or %r0, %r1
    exit
  cb:
    jne %r1, ${handle}, bad
    ldxw %r2, [%r2+0]
    mul %r2, 1000
    ldxdw %r3, [%r3+0]
    add %r2, %r3
    ldxdw %r5, [%r4+0]
    add %r5, %r2
    stxdw [%r4+0], %r5
    mov %r0, 0
    jlt %r5, ${stopAt}, +1
    mov %r0, 1
    exit
  bad:
    mov %r0, 1
    exit`;
  const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
  const u64 = (...ns: number[]) => new Uint8Array(new BigUint64Array(ns.map(BigInt)).buffer);

  test('visits every hash element with its key and value, and returns the count', async () => {
    const world = new World();
    const { map, handle } = world.map({ type: MapType.HASH, name: 'h', keySize: 4, valueSize: 8, maxEntries: 8 });
    for (const k of [1, 2, 3]) map.update(u32(k), u64(k * 10));
    expect((await world.run(engine, sumMap(handle))).r0).toBe((3n << 32n) | BigInt(6000 + 60));
  });

  test('a callback returning 1 stops the walk, that element counted', async () => {
    const world = new World();
    const { map, handle } = world.map({ type: MapType.LRU_HASH, name: 'h', keySize: 4, valueSize: 8, maxEntries: 8 });
    for (const k of [1, 2, 3]) map.update(u32(k), u64(k));
    // Insertion order: after 1 and 2, acc = 1001 + 2002 >= 3000.
    expect((await world.run(engine, sumMap(handle, 3000))).r0).toBe((2n << 32n) | 3003n);
  });

  test('walks every array index, present or not', async () => {
    const world = new World();
    const { map, handle } = world.map({ type: MapType.ARRAY, name: 'a', keySize: 4, valueSize: 8, maxEntries: 4 });
    map.update(u32(2), u64(7));
    expect((await world.run(engine, sumMap(handle))).r0).toBe((4n << 32n) | BigInt(0 + 1000 + 2007 + 3000));
  });

  test('per-CPU maps give the current CPU\'s values', async () => {
    const world = new World();
    world.cpu = 1;
    const { map: array, handle: arrayHandle } = world.map({ type: MapType.PERCPU_ARRAY, name: 'pa', keySize: 4, valueSize: 8, maxEntries: 2 }, 2);
    array.update(u32(0), u64(5, 50));
    array.update(u32(1), u64(6, 60));
    expect((await world.run(engine, sumMap(arrayHandle))).r0).toBe((2n << 32n) | BigInt(50 + 1060));
    const { map: hash, handle: hashHandle } = world.map({ type: MapType.PERCPU_HASH, name: 'ph', keySize: 4, valueSize: 8, maxEntries: 4 }, 2);
    hash.update(u32(3), u64(1, 2));
    hash.update(u32(4), u64(3, 4));
    expect((await world.run(engine, sumMap(hashHandle))).r0).toBe((2n << 32n) | BigInt(3002 + 4004));
  });

  test('-EINVAL for flags, for a map kind Linux cannot walk, and for no map', async () => {
    const world = new World();
    const { handle } = world.map({ type: MapType.HASH, name: 'h', keySize: 4, valueSize: 8, maxEntries: 8 });
    const { handle: queue } = world.map({ type: MapType.QUEUE, name: 'q', keySize: 0, valueSize: 8, maxEntries: 8 });
    const { handle: devmapHash } = world.map({ type: MapType.DEVMAP_HASH, name: 'd', keySize: 4, valueSize: 4, maxEntries: 8 });
    expect((await world.run(engine, sumMap(handle, 1 << 30, 1))).r0).toBe(errnoHigh(Errno.EINVAL) << 32n);
    for (const h of [queue, devmapHash, 0x10]) expect((await world.run(engine, sumMap(h))).r0).toBe(errnoHigh(Errno.EINVAL) << 32n);
  });
});

describe('forEachAt', () => {
  const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
  const keyAt = (memory: GuestMemory, a: number) => memory.view.getUint32(a, true);

  test('a hash walk skips elements deleted during it', () => {
    const world = new World();
    const { map } = world.map({ type: MapType.HASH, name: 'h', keySize: 4, valueSize: 4, maxEntries: 8 });
    for (const k of [1, 2, 3, 4]) map.update(u32(k), u32(k));
    const seen: number[] = [];
    const n = map.forEachAt!(0, (key) => {
      const k = keyAt(world.memory, key);
      seen.push(k);
      if (k === 1) map.delete(u32(3));
      return false;
    });
    expect(seen).toEqual([1, 2, 4]);
    expect(n).toBe(3);
  });

  test('array walks nest, each with its own key slot, which programs cannot write', () => {
    const world = new World();
    const { map } = world.map({ type: MapType.ARRAY, name: 'a', keySize: 4, valueSize: 4, maxEntries: 3 });
    const pairs: string[] = [];
    map.forEachAt!(0, (outer) => {
      map.forEachAt!(0, (inner) => {
        pairs.push(`${keyAt(world.memory, outer)}${keyAt(world.memory, inner)}`);
        return keyAt(world.memory, inner) === 1;
      });
      return false;
    });
    expect(pairs).toEqual(['00', '01', '10', '11', '20', '21']);
    let keyRegion: { writable: boolean } | undefined;
    map.forEachAt!(0, (key) => { keyRegion = world.memory.find(key, 4); return true; });
    expect(keyRegion?.writable).toBe(false);
  });
});
