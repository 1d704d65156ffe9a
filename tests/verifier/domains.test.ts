// Soundness of the scalar domain (tnum plus 32/64-bit signed and unsigned bounds) and of its
// transfer functions, by sampling: abstract values are built from small sets of concrete values
// (with the edges of every range among them), every ALU op and every branch condition is applied
// both concretely and abstractly, and each concrete result must lie inside the abstract one.
import { describe, expect, test } from 'vitest';
import { JmpCode } from '../../isa/fields.js';
import { constBounds, syncBounds, type Bounds } from '../../verifier/bounds.js';
import { branchTaken, refined, reverse } from '../../verifier/branches.js';
import { scalarOf, type Reg } from '../../verifier/registers.js';
import { scalarAlu, type AluKind } from '../../verifier/scalar-alu.js';
import { tnumAdd, tnumAnd, tnumIn, tnumMul, tnumOr, tnumRange, tnumSub, tnumXor, type Tnum } from '../../verifier/tnum.js';
import { prng } from '../support/prng.js';

const U64 = (x: bigint) => BigInt.asUintN(64, x);
const S64 = (x: bigint) => BigInt.asIntN(64, x);
const U32 = (x: bigint) => BigInt.asUintN(32, x);
const S32 = (x: bigint) => BigInt.asIntN(32, x);

/** Whether the concrete 64-bit value v is described by b. */
function contains(b: Bounds, v: bigint): boolean {
  const u = U64(v);
  return (u & ~b.var.mask & 0xffffffffffffffffn) === b.var.value
    && b.umin <= u && u <= b.umax && b.smin <= S64(u) && S64(u) <= b.smax
    && BigInt(b.u32min) <= U32(u) && U32(u) <= BigInt(b.u32max) && BigInt(b.s32min) <= S32(u) && S32(u) <= BigInt(b.s32max);
}

/** The abstraction of a set of values: a tnum and bounds joined over all of them. */
function abstractOf(values: readonly bigint[]): Reg {
  let value = U64(values[0]!);
  let mask = 0n;
  for (const v of values) mask |= value ^ U64(v);
  value &= ~mask;
  const us = values.map(U64);
  const ss = values.map((v) => S64(v));
  const u32 = values.map((v) => U32(v));
  const s32 = values.map((v) => S32(v));
  const min = (xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b));
  const max = (xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b));
  const b: Bounds = {
    var: { value, mask }, umin: min(us), umax: max(us), smin: min(ss), smax: max(ss),
    u32min: Number(min(u32)), u32max: Number(max(u32)), s32min: Number(min(s32)), s32max: Number(max(s32)),
  };
  syncBounds(b);
  return scalarOf(b);
}

/** Values near every edge: 0, 1, -1, the 32- and 64-bit sign boundaries, and random ones. */
function sampleSet(rng: () => number, n: number): bigint[] {
  const edges = [0n, 1n, -1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, (1n << 63n) - 1n, 1n << 63n, 255n, 256n, 4096n];
  const out: bigint[] = [];
  const base = rng() < 0.5 ? edges[Math.floor(rng() * edges.length)]! : BigInt(Math.floor(rng() * 2 ** 32)) << BigInt(Math.floor(rng() * 33));
  for (let i = 0; i < n; i++) {
    const r = rng();
    out.push(U64(r < 0.3 ? edges[Math.floor(rng() * edges.length)]! : base + BigInt(Math.floor((rng() - 0.5) * 64))));
  }
  return out;
}

/** BPF semantics of a binary ALU op on 64 or 32 bits (RFC 9669), for the ops the verifier tracks. */
function concrete(op: AluKind, x: bigint, y: bigint, is32: boolean): bigint {
  const a = is32 ? U32(x) : U64(x);
  const b = is32 ? U32(y) : U64(y);
  const bits = is32 ? 32n : 64n;
  const wrap = (v: bigint) => (is32 ? U32(v) : U64(v));
  switch (op) {
    case 'add': return wrap(a + b);
    case 'sub': return wrap(a - b);
    case 'mul': return wrap(a * b);
    case 'and': return a & b;
    case 'or': return a | b;
    case 'xor': return a ^ b;
    case 'lsh': return wrap(a << (b & (bits - 1n)));
    case 'rsh': return a >> (b & (bits - 1n));
    case 'arsh': return wrap((is32 ? S32(a) : S64(a)) >> (b & (bits - 1n)));
    default: throw new Error(op);
  }
}

const rng = prng(20240610);

describe('tnum operations hold every concrete result', () => {
  const ops: [string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint][] = [
    ['add', tnumAdd, (x, y) => U64(x + y)], ['sub', tnumSub, (x, y) => U64(x - y)], ['mul', tnumMul, (x, y) => U64(x * y)],
    ['and', tnumAnd, (x, y) => x & y], ['or', tnumOr, (x, y) => x | y], ['xor', tnumXor, (x, y) => x ^ y],
  ];
  test.for(ops.map(([name, abstract, op]) => ({ name, abstract, op })))('$name', ({ abstract, op }) => {
    for (let i = 0; i < 300; i++) {
      const xs = sampleSet(rng, 3);
      const ys = sampleSet(rng, 3);
      const t = abstract(abstractOf(xs).var, abstractOf(ys).var);
      for (const x of xs) for (const y of ys) expect(tnumIn(t, { value: op(x, y), mask: 0n })).toBe(true);
    }
  });

  test('tnumRange covers its range', () => {
    for (let i = 0; i < 500; i++) {
      const [a, b] = sampleSet(rng, 2).sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
      const t = tnumRange(a!, b!);
      for (const v of [a!, b!, a! + (b! - a!) / 2n]) expect(tnumIn(t, { value: v, mask: 0n })).toBe(true);
    }
  });
});

describe('syncBounds keeps every value it describes', () => {
  test('on sets of sampled values', () => {
    for (let i = 0; i < 2000; i++) {
      const xs = sampleSet(rng, 1 + Math.floor(rng() * 4));
      const a = abstractOf(xs);
      for (const x of xs) expect(contains(a, x), `${x} in ${JSON.stringify(a, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`).toBe(true);
    }
  });

  test('a known value is its own bounds everywhere', () => {
    const b = constBounds(-5n);
    syncBounds(b);
    expect([b.smin, b.smax, b.s32min, b.s32max, b.umin]).toEqual([-5n, -5n, -5, -5, U64(-5n)]);
  });
});

describe('ALU transfer functions hold every concrete result', () => {
  const OPS: AluKind[] = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh'];
  test.for(OPS.flatMap((op) => [{ op, is32: false }, { op, is32: true }]))('$op (32-bit: $is32)', ({ op, is32 }) => {
    for (let i = 0; i < 250; i++) {
      const xs = sampleSet(rng, 3);
      // Shifts are tracked for known amounts only; others give unknowns, which contain everything anyway.
      const ys = op === 'lsh' || op === 'rsh' || op === 'arsh' ? [BigInt(Math.floor(rng() * (is32 ? 32 : 64)))] : sampleSet(rng, 3);
      const dst = abstractOf(xs);
      scalarAlu(dst, abstractOf(ys), op, is32);
      for (const x of xs) for (const y of ys) expect(contains(dst, concrete(op, x, y, is32)), `${op} ${x} ${y}`).toBe(true);
    }
  });
});

describe('branch decisions and refinements hold every pair that takes the branch', () => {
  const CONDS: [string, number, (x: bigint, y: bigint, is32: boolean) => boolean][] = [
    ['jeq', JmpCode.JEQ, (x, y, w) => (w ? U32(x) === U32(y) : x === y)],
    ['jne', JmpCode.JNE, (x, y, w) => (w ? U32(x) !== U32(y) : x !== y)],
    ['jgt', JmpCode.JGT, (x, y, w) => (w ? U32(x) > U32(y) : x > y)],
    ['jge', JmpCode.JGE, (x, y, w) => (w ? U32(x) >= U32(y) : x >= y)],
    ['jlt', JmpCode.JLT, (x, y, w) => (w ? U32(x) < U32(y) : x < y)],
    ['jle', JmpCode.JLE, (x, y, w) => (w ? U32(x) <= U32(y) : x <= y)],
    ['jsgt', JmpCode.JSGT, (x, y, w) => (w ? S32(x) > S32(y) : S64(x) > S64(y))],
    ['jsge', JmpCode.JSGE, (x, y, w) => (w ? S32(x) >= S32(y) : S64(x) >= S64(y))],
    ['jslt', JmpCode.JSLT, (x, y, w) => (w ? S32(x) < S32(y) : S64(x) < S64(y))],
    ['jsle', JmpCode.JSLE, (x, y, w) => (w ? S32(x) <= S32(y) : S64(x) <= S64(y))],
    ['jset', JmpCode.JSET, (x, y, w) => (w ? U32(x & y) !== 0n : (x & y) !== 0n)],
  ];
  test.for(CONDS.flatMap(([name, op, holds]) => [{ name, op, holds, is32: false }, { name, op, holds, is32: true }]))('$name (32-bit: $is32)', ({ op, holds, is32 }) => {
    for (let i = 0; i < 300; i++) {
      const xs = sampleSet(rng, 3);
      const ys = rng() < 0.5 ? [sampleSet(rng, 1)[0]!] : sampleSet(rng, 3);
      const a = abstractOf(xs);
      const b = abstractOf(ys);
      const pred = branchTaken(a, b, op, is32);
      const [t1, t2] = refined(a, b, op, is32, true);
      const [f1, f2] = refined(a, b, reverse(op), is32, true);
      for (const x of xs) {
        for (const y of ys) {
          const taken = holds(x, y, is32);
          if (pred === 1) expect(taken, 'predicted taken').toBe(true);
          if (pred === 0) expect(taken, 'predicted not taken').toBe(false);
          if (taken) expect(contains(t1, x) && contains(t2, y), `taken ${x} ${y}`).toBe(true);
          else expect(contains(f1, x) && contains(f2, y), `fall-through ${x} ${y}`).toBe(true);
        }
      }
    }
  });
});
