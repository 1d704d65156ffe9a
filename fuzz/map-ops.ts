// Differential fuzzing of the map operations the JIT runs in WebAssembly (jit/map-ops.ts) against
// the helpers in JavaScript, which the interpreter calls: two runtimes, one per engine, create the
// same maps and see the same random sequence of program lookups (each followed by a write through
// the pointer), program updates with any flags, and JavaScript updates and deletes, on random CPUs.
// Every result, the value a lookup finds, and (now and then) every map's contents must agree.
import { assemble } from '../isa/assembler.js';
import { MapType, MapFlag } from '../maps/constants.js';
import type { BpfMap, MapSpec } from '../maps/map.js';
import { mapContents } from '../runtime/differential.js';
import { createExecutor, type EngineKind, type Executor } from '../runtime/engine.js';
import { Runtime } from '../runtime/runtime.js';
import { Prng } from './prng.js';

const CPUS = 4;
const KEY_MAX = 64;
// The record a program gets in r1: map handle, flags, result, key, value.
const HANDLE = 0;
const FLAGS = 8;
const RESULT = 16;
const KEY = 24;
const VALUE = KEY + KEY_MAX;
const RECORD_BYTES = VALUE + 64;

/** Looks the key up and, when found, adds 1 to the value's first byte through the pointer (programs write where lookups point). */
const LOOKUP = `
  mov %r6, %r1
  ldxw %r1, [%r6+${HANDLE}]
  mov %r2, %r6
  add %r2, ${KEY}
  call 1
  stxdw [%r6+${RESULT}], %r0
  jeq %r0, 0, out
  ldxb %r1, [%r0+0]
  add %r1, 1
  stxb [%r0+0], %r1
out:
  mov %r0, 0
  exit`;

const UPDATE = `
  mov %r6, %r1
  ldxw %r1, [%r6+${HANDLE}]
  mov %r2, %r6
  add %r2, ${KEY}
  mov %r3, %r6
  add %r3, ${VALUE}
  ldxdw %r4, [%r6+${FLAGS}]
  call 2
  stxdw [%r6+${RESULT}], %r0
  mov %r0, 0
  exit`;

/**
 * bpf_for_each_map_elem with a callback that adds 1 to each value's first byte, counts the
 * elements in ctx (the record's value area), deletes every third one, and stops at the limit the
 * record holds; the flags come from the record.
 */
const FOR_EACH = `
  mov %r6, %r1
  ldxw %r1, [%r6+${HANDLE}]
  lddw %r2, func cb
  mov %r3, %r6
  add %r3, ${VALUE}
  ldxdw %r4, [%r6+${FLAGS}]
  call 164
  stxdw [%r6+${RESULT}], %r0
  mov %r0, 0
  exit
cb:
  ldxb %r0, [%r3+0]
  add %r0, 1
  stxb [%r3+0], %r0
  ldxdw %r6, [%r4+0]
  add %r6, 1
  stxdw [%r4+0], %r6
  ldxdw %r7, [%r4+8]
  mov %r8, %r6
  mod %r8, 3
  jne %r8, 0, keep
  call 3
keep:
  mov %r0, 0
  jlt %r6, %r7, out
  mov %r0, 1
out:
  exit`;

/** One runtime with the campaign's maps and the programs on one engine. */
class Side {
  private constructor(
    readonly runtime: Runtime,
    readonly maps: BpfMap[],
    private readonly record: number,
    private readonly lookup: Executor,
    private readonly update: Executor,
    private readonly forEach: Executor,
  ) {}

  static async create(engine: EngineKind, specs: readonly MapSpec[]): Promise<Side> {
    const runtime = new Runtime({ engine, cpus: CPUS });
    const maps = specs.map((spec) => runtime.createMap(spec));
    const record = runtime.memory.allocate(RECORD_BYTES, 'map-ops record').start;
    const options = { memory: runtime.memory, helpers: runtime.helpersFor('xdp') };
    const [lookup, update, forEach] = await Promise.all([LOOKUP, UPDATE, FOR_EACH].map((asm) => createExecutor(assemble(asm), engine, options)));
    return new Side(runtime, maps, record, lookup!, update!, forEach!);
  }

  /** Runs a program op; returns its r0-like result as text (a found value's bytes, for lookups; the walk's count). */
  run(op: 'lookup' | 'update' | 'for-each', map: number, key: Uint8Array, value: Uint8Array, flags: bigint, cpu: number): string {
    const { memory } = this.runtime;
    this.runtime.currentCpu = cpu;
    memory.refresh();
    const v = memory.view;
    v.setUint32(this.record + HANDLE, this.runtime.mapHandle(this.maps[map]!), true);
    v.setBigUint64(this.record + FLAGS, flags, true);
    memory.bytes.set(key, this.record + KEY);
    // A program passes one CPU's value: value_size bytes.
    memory.bytes.set(value.subarray(0, this.maps[map]!.valueSize), this.record + VALUE);
    if (op === 'for-each') {
      // ctx: the count so far, and the limit.
      memory.view.setBigUint64(this.record + VALUE, 0n, true);
      memory.view.setBigUint64(this.record + VALUE + 8, BigInt(value[0]! % 8 === 0 ? 1000 : value[0]! % 8), true);
    }
    ({ lookup: this.lookup, update: this.update, 'for-each': this.forEach })[op].run({ args: [this.record] });
    memory.refresh();
    const result = memory.view.getBigInt64(this.record + RESULT, true);
    if (op === 'for-each') return `${result} visited, ${memory.view.getBigUint64(this.record + VALUE, true)} counted`;
    if (op === 'update' || result === 0n) return String(result);
    const at = Number(result);
    return `found ${Buffer.from(memory.bytes.subarray(at, at + this.maps[map]!.valueSize)).toString('hex')}`;
  }
}

/** What a campaign did. */
export interface MapOpsReport {
  readonly cases: number;
  readonly ops: number;
  /** The first disagreement, described, or undefined. */
  readonly mismatch?: string;
}

const KINDS = [MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE];
const TYPE_NAMES = new Map<number, string>(Object.entries(MapType).map(([name, type]) => [type, name.toLowerCase()]));

function randomSpec(rng: Prng, index: number): MapSpec {
  const type = rng.pick(KINDS);
  const array = type === MapType.ARRAY || type === MapType.PERCPU_ARRAY;
  const lru = type === MapType.LRU_HASH || type === MapType.LRU_PERCPU_HASH;
  if (type === MapType.LPM_TRIE) {
    return { type, name: `m${index}`, keySize: 4 + rng.pick([1, 2, 4, 16]), valueSize: rng.pick([1, 4, 8, 24]), maxEntries: rng.pick([1, 4, 33, 300]), flags: MapFlag.NO_PREALLOC };
  }
  const keySize = array ? 4 : rng.pick([1, 2, 3, 4, 5, 8, 12, 16, 20, 64]);
  const flags = !array && !lru && rng.chance(0.5) ? MapFlag.NO_PREALLOC : 0;
  return { type, name: `m${index}`, keySize, valueSize: rng.pick([1, 4, 8, 12, 24, 64]), maxEntries: rng.pick([1, 2, 4, 8, 33, 300]), flags };
}

/** A key from a small space, so that ops meet keys already there; sometimes past the end of an array. */
function randomKey(rng: Prng, map: BpfMap): Uint8Array {
  const key = new Uint8Array(map.keySize);
  if (map.type === MapType.LPM_TRIE) {
    // Prefixes that nest and diverge: data bytes from a few values, any length (now and then too long).
    const maxPrefixlen = (map.keySize - 4) * 8;
    new DataView(key.buffer).setUint32(0, rng.chance(0.05) ? maxPrefixlen + 1 : rng.chance(0.4) ? maxPrefixlen : rng.int(0, maxPrefixlen), true);
    for (let i = 4; i < key.length; i++) key[i] = rng.pick([0, 0x80, 0xc0, 0xff, 0x0f, rng.below(256)]);
    return key;
  }
  const n = rng.below(Math.min(map.maxEntries * 2 + 2, 600));
  for (let i = 0; i < Math.min(4, key.length); i++) key[i] = (n >>> (8 * i)) & 0xff;
  if (key.length > 4 && rng.chance(0.1)) key[key.length - 1] = rng.below(3);
  return key;
}

function randomFlags(rng: Prng): bigint {
  return rng.weighted<bigint>([[0n, 6], [1n, 3], [2n, 3], [3n, 1], [4n, 1], [1n << 32n, 1]]);
}

/** Runs `cases` random cases of `ops` operations each, from `seed`; stops at the first disagreement. */
export async function mapOpsCampaign(options: { readonly seed: number; readonly cases: number; readonly ops: number }): Promise<MapOpsReport> {
  let ops = 0;
  for (let c = 0; c < options.cases; c++) {
    const rng = new Prng((options.seed + c) >>> 0);
    const specs = Array.from({ length: rng.int(1, 3) }, (_, i) => randomSpec(rng, i));
    const interp = await Side.create('interp', specs);
    const jit = await Side.create('jit', specs);
    const where = (i: number, what: string) => `seed ${(options.seed + c) >>> 0}, op ${i} (${what}) on ${specs.map((s) => `${TYPE_NAMES.get(s.type)}(key ${s.keySize}, value ${s.valueSize}, max ${s.maxEntries}, flags ${s.flags})`).join(', ')}`;
    for (let i = 0; i < options.ops; i++, ops++) {
      const m = rng.below(specs.length);
      const map = interp.maps[m]!;
      const key = randomKey(rng, map);
      const value = Uint8Array.from({ length: map.jsValueSize }, () => rng.below(256));
      const kind = rng.weighted<'lookup' | 'update' | 'for-each' | 'js-update' | 'js-delete'>([['lookup', 5], ['update', 4], ['for-each', 1], ['js-update', 1], ['js-delete', 1]]);
      let a: string;
      let b: string;
      if (kind === 'lookup' || kind === 'update' || kind === 'for-each') {
        const flags = kind === 'for-each' ? (rng.chance(0.1) ? 1n : 0n) : randomFlags(rng);
        const cpu = rng.below(CPUS);
        a = interp.run(kind, m, key, value, flags, cpu);
        b = jit.run(kind, m, key, value, flags, cpu);
      } else {
        const flags = Number(rng.below(3));
        const act = (side: Side) => {
          try {
            if (kind === 'js-update') side.maps[m]!.update(key, value, flags);
            else return String(side.maps[m]!.delete(key));
            return 'ok';
          } catch (err) {
            return (err as Error).message;
          }
        };
        a = act(interp);
        b = act(jit);
      }
      if (a !== b) return { cases: c + 1, ops, mismatch: `${where(i, kind)}: interpreter ${a}, JIT ${b}` };
      if (i % 16 === 15 || i === options.ops - 1) {
        for (let k = 0; k < specs.length; k++) {
          const [x, y] = [mapContents(interp.maps[k]!), mapContents(jit.maps[k]!)];
          if (x !== y) return { cases: c + 1, ops, mismatch: `${where(i, kind)}: map m${k} differs: interpreter ${x || '(empty)'}, JIT ${y || '(empty)'}` };
        }
      }
    }
  }
  return { cases: options.cases, ops };
}
