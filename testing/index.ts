// ebpf-wasm/testing: BPF unit tests in vitest, without a kernel. What Cilium's PKTGEN/SETUP/CHECK
// programs do in a kernel, done in a Node (or browser) test: packets from fields, an object loaded
// fresh for each test, and matchers that say what went wrong in the terms of the program:
//
//   import { expect, test } from 'vitest';
//   import { bpfMatchers, buildPacket, loadFixture } from 'ebpf-wasm/testing';
//   expect.extend(bpfMatchers);
//
//   test('drops DNS', async () => {
//     const obj = await loadFixture('firewall.o');
//     expect(obj.program('xdp_firewall').testRun({ dataIn: buildPacket({ dstPort: 53 }) })).toHaveVerdict('XDP_DROP');
//   });
import { Runtime, type LoadedObject, type LoadOptions, type RuntimeOptions } from '../runtime/runtime.js';
import { TC_VERDICT_NAMES, XDP_VERDICT_NAMES, type TcVerdictName, type XdpVerdictName } from '../net/datapath-stats.js';
import { packetDiff } from './dissect.js';
import type {} from 'vitest';

export { buildPacket, IcmpType, TcpFlag, type PacketFields } from '../net/packets.js';
export { dissect, packetDiff, type PacketField } from './dissect.js';

/** Verdict names by number, as linux/bpf.h and linux/pkt_cls.h spell them: the datapath's tallies' names (tc's from TC_ACT_UNSPEC = -1). */
export const XDP_VERDICTS = XDP_VERDICT_NAMES.map((n) => `XDP_${n.toUpperCase()}`) as readonly `XDP_${Uppercase<XdpVerdictName>}`[];
export const TC_VERDICTS = TC_VERDICT_NAMES.map((n) => `TC_ACT_${n.toUpperCase()}`) as readonly `TC_ACT_${Uppercase<TcVerdictName>}`[];
export type VerdictName = (typeof XDP_VERDICTS)[number] | (typeof TC_VERDICTS)[number];

/** A verdict name's number (tc's counted from TC_ACT_UNSPEC = -1), or undefined for a name that is none. */
export function verdictNumber(name: string): number | undefined {
  const xdp = (XDP_VERDICTS as readonly string[]).indexOf(name);
  if (xdp >= 0) return xdp;
  const tc = (TC_VERDICTS as readonly string[]).indexOf(name);
  return tc >= 0 ? tc - 1 : undefined;
}

/** How a retval reads in the family of the verdict asked for. */
function verdictText(retval: number, family: 'xdp' | 'tc'): string {
  const name = family === 'xdp' ? XDP_VERDICTS[retval] : TC_VERDICTS[(retval | 0) + 1];
  return name === undefined ? `retval ${retval}` : `${name} (retval ${retval})`;
}

/**
 * A fresh runtime with `source` (a path in Node, or the object's bytes) loaded into it, so each test
 * starts from empty maps. Runtime options (engine, cpus, clock, seed) and load options (programs,
 * globals) go together.
 */
export async function loadFixture(source: string | Uint8Array, options: RuntimeOptions & LoadOptions = {}): Promise<LoadedObject> {
  return new Runtime(options).loadObject(source, options);
}

/** What vitest hands a matcher as `this` (the parts used here). */
interface MatcherContext {
  readonly isNot: boolean;
  equals(a: unknown, b: unknown): boolean;
}

interface MatcherResult {
  readonly pass: boolean;
  readonly message: () => string;
}

/** Something with a retval: a test run's result (XDP, tc, socket filter). */
interface HasRetval {
  readonly retval: number;
}

/** A map that looks keys up (a typed map, by BTF values; or a BpfMap, by bytes). */
interface Lookup {
  lookup(key: never): unknown;
}

/**
 * The matchers, for `expect.extend(bpfMatchers)`:
 * - `expect(result).toHaveVerdict('XDP_DROP')`: the result's retval is that verdict (a name or a number);
 * - `expect(result).toHavePacket(bytes)`: its data_out (or the bytes given) equals `bytes`, and a
 *   failure lists the header fields that differ (`ipv4.ttl: expected 63, got 64`);
 * - `expect(map).toHaveEntry(key, value)`: the map holds `value` under `key` (`value` undefined: no entry).
 */
export const bpfMatchers = {
  toHaveVerdict(this: MatcherContext, received: HasRetval, verdict: VerdictName | number): MatcherResult {
    const wanted = typeof verdict === 'number' ? verdict : verdictNumber(verdict);
    if (wanted === undefined) throw new TypeError(`'${verdict}' is not a verdict (XDP_* or TC_ACT_*)`);
    const family = typeof verdict === 'string' && verdict.startsWith('TC_') ? 'tc' : 'xdp';
    const retval = received.retval;
    const pass = family === 'tc' ? (retval | 0) === wanted : retval === wanted >>> 0;
    const asked = typeof verdict === 'number' ? `retval ${verdict}` : verdict;
    return { pass, message: () => (pass ? `expected a verdict other than ${asked}` : `expected ${asked}, got ${verdictText(retval, family)}`) };
  },

  toHavePacket(this: MatcherContext, received: { readonly dataOut: Uint8Array } | Uint8Array, expected: Uint8Array): MatcherResult {
    const actual = received instanceof Uint8Array ? received : received.dataOut;
    const differences = packetDiff(expected, actual);
    const pass = differences.length === 0;
    return {
      pass,
      message: () => (pass ? 'expected a different packet, got the same bytes' : `the packet differs from the one expected:\n  ${differences.join('\n  ')}`),
    };
  },

  toHaveEntry(this: MatcherContext, received: Lookup, key: unknown, value: unknown): MatcherResult {
    const actual = received.lookup(key as never);
    const pass = this.equals(actual, value);
    const show = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x));
    return {
      pass,
      message: () => (pass ? `expected no entry ${show(value)} under ${show(key)}` : `under ${show(key)}: expected ${value === undefined ? 'no entry' : show(value)}, got ${actual === undefined ? 'no entry' : show(actual)}`),
    };
  },
};

/** The matchers' signatures, for `Assertion` (see the declaration below). */
export interface BpfMatchers<R = unknown> {
  toHaveVerdict(verdict: VerdictName | number): R;
  toHavePacket(expected: Uint8Array): R;
  toHaveEntry(key: unknown, value: unknown): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Assertion<T = any> extends BpfMatchers<T> {}
  interface AsymmetricMatchersContaining extends BpfMatchers {}
}
