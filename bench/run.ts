// `npm run bench`: the interpreter and the JIT on the same workloads (ns a run, ns an executed
// instruction, the JIT's speed-up), the JIT's compile time per 1,000 instructions with binaryen's
// load time apart, and the cost of entering a compiled program from JS. Each figure is the median
// of several timed batches after a warm-up; a batch runs enough times to last at least 20 ms.
// Verification times come last (bench/verifier.ts).
import { assemble, binaryenLoadMs, compileToWasm, CONFORMANCE_HELPERS, createExecutor, GuestMemory, type EngineKind } from '../index.js';
import { captureFigures } from './capture.js';
import { replayFigures } from './replay.js';
import { extensionFigures } from './extensions.js';
import { skStorageFigures } from './sk-storage.js';
import { largeProgram } from './large-program.js';
import { verifierFigures } from './verifier.js';
import { callbackFigures } from './callbacks.js';
import { firewallFigures, loaderFigures } from './objects.js';
import { WORKLOADS, type Workload } from './workloads.js';
import { linuxFigures, linuxLines } from './linux.js';

const BATCHES = 7;
const BATCH_MS = 20;

/** Median ns per call of `fn`, timed in batches. */
function timePerCall(fn: () => void): number {
  let perBatch = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    if (performance.now() - start >= BATCH_MS) break;
    perBatch *= 2;
  }
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    samples.push(((performance.now() - start) * 1e6) / perBatch);
  }
  return samples.sort((x, y) => x - y)[Math.floor(BATCHES / 2)]!;
}

interface EngineFigures {
  nsPerRun: number;
  nsPerInstruction: number;
}

async function measure(w: Workload, engine: EngineKind, instructions: number): Promise<EngineFigures> {
  const memory = new GuestMemory();
  const block = w.memBytes > 0 ? memory.allocate(w.memBytes, 'bench memory') : undefined;
  const executor = await createExecutor(assemble(w.asm, { source: w.name }), engine, { memory, helpers: CONFORMANCE_HELPERS });
  const args = { args: [block?.start ?? 0, w.memBytes] };
  const nsPerRun = timePerCall(() => executor.run(args));
  executor.dispose();
  return { nsPerRun, nsPerInstruction: nsPerRun / instructions };
}

async function compileFigures(): Promise<{ binaryenLoadMs: number; sizes: { instructions: number; lowerMs: number; v8Ms: number; msPer1000: number }[] }> {
  // The first compile loads binaryen; time that apart.
  await compileToWasm(assemble('mov %r0, 0\nexit'));
  const load = binaryenLoadMs();
  const sizes = [];
  for (const n of [1_000, 10_000]) {
    const insns = assemble(largeProgram(n));
    await compileToWasm(insns); // warm up binaryen's passes
    const t0 = performance.now();
    const { binary } = await compileToWasm(insns);
    const t1 = performance.now();
    new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
    const t2 = performance.now();
    sizes.push({ instructions: insns.length, lowerMs: t1 - t0, v8Ms: t2 - t1, msPer1000: ((t2 - t0) * 1000) / insns.length });
  }
  return { binaryenLoadMs: load, sizes };
}

const json = process.argv.includes('--json');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const compile = !only || only === 'compile' ? await compileFigures() : undefined;
const rows = [];
for (const w of WORKLOADS.filter((x) => !only || x.name === only)) {
  const memory = new GuestMemory();
  const block = w.memBytes > 0 ? memory.allocate(w.memBytes, 'count') : undefined;
  const counter = await createExecutor(assemble(w.asm), 'interp', { memory, helpers: CONFORMANCE_HELPERS });
  const instructions = counter.run({ args: [block?.start ?? 0, w.memBytes] }).instructions!;
  const interp = await measure(w, 'interp', instructions);
  const jit = await measure(w, 'jit', instructions);
  rows.push({ workload: w.name, instructions, interp, jit, speedup: interp.nsPerRun / jit.nsPerRun });
}

const objects = !only || only === 'objects';
const loader = objects ? await loaderFigures() : [];
const packets = objects ? await firewallFigures() : [];
const capture = !only || only === 'capture' ? captureFigures() : undefined;
const extensions = !only || only === 'extensions' ? await extensionFigures() : [];
const replays = !only || only === 'replay' ? replayFigures(!process.argv.includes('--quick')) : [];
const skStorage = !only || only === 'sk-storage' ? await skStorageFigures() : [];
const verification = !only || only === 'verifier' ? verifierFigures() : undefined;
const callbacks = !only || only === 'callbacks' ? await callbackFigures() : [];
const linux = !only || only === 'linux' ? await linuxFigures() : undefined;

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, workloads: rows, compile, loader, packets, capture, extensions, replays, skStorage, verification, callbacks, linux }, null, 2)}\n`);
} else if (rows.length || compile) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`node ${process.version}; medians of ${BATCHES} batches of >= ${BATCH_MS} ms`);
  out('');
  out(`${'workload'.padEnd(12)} ${'insns/run'.padStart(9)} | ${'interp ns/run'.padStart(13)} ${'ns/insn'.padStart(7)} | ${'jit ns/run'.padStart(10)} ${'ns/insn'.padStart(7)} | ${'speed-up'.padStart(8)}`);
  for (const r of rows) {
    out(`${r.workload.padEnd(12)} ${String(r.instructions).padStart(9)} | ${r.interp.nsPerRun.toFixed(0).padStart(13)} ${r.interp.nsPerInstruction.toFixed(2).padStart(7)} | ${r.jit.nsPerRun.toFixed(0).padStart(10)} ${r.jit.nsPerInstruction.toFixed(3).padStart(7)} | ${r.speedup.toFixed(1).padStart(7)}x`);
  }
  out('');
  out(`JIT per-call overhead (the 'empty' program, entered from JS): ${rows.find((r) => r.workload === 'empty')?.jit.nsPerRun.toFixed(0) ?? '-'} ns`);
  if (compile) out(`binaryen load (once per process): ${compile.binaryenLoadMs.toFixed(0)} ms`);
  for (const s of compile?.sizes ?? []) {
    out(`compile ${s.instructions} instructions: binaryen ${s.lowerMs.toFixed(1)} ms + V8 ${s.v8Ms.toFixed(1)} ms = ${s.msPer1000.toFixed(1)} ms per 1,000 instructions`);
  }
}
if (!json && objects) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  out(`${'object'.padEnd(20)} ${'bytes'.padStart(7)} ${'insns'.padStart(6)} | ${'parse ms'.padStart(8)} | ${'load ms (interp)'.padStart(16)} | ${'load ms (jit)'.padStart(13)}`);
  for (const l of loader) {
    out(`${l.object.padEnd(20)} ${String(l.bytes).padStart(7)} ${String(l.instructions).padStart(6)} | ${l.parseMs.toFixed(2).padStart(8)} | ${l.loadMs.toFixed(2).padStart(16)} | ${l.jitLoadMs.toFixed(1).padStart(13)}`);
  }
  out('');
  for (const p of packets) {
    out(`xdp_firewall.o on ${p.engine.padEnd(6)}: ${p.testRunNs.toFixed(0)} ns per packet through testRun, ${p.runNs.toFixed(0)} ns per run of the program`);
  }
}
if (!json && capture) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  for (const f of capture.formats) {
    out(`${f.format.padEnd(6)} (${f.bytesPerRecord.toFixed(0)} bytes a record): read ${f.readNs.toFixed(0)} ns per record (${f.readNsWithData.toFixed(0)} with its data view), write ${f.writeNs.toFixed(0)} ns per record`);
  }
  out(`traffic generator: ${capture.generateNs.toFixed(0)} ns per frame`);
}
if (!json && extensions.length) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  out('extension helpers, ns per call from a program (1,000 calls a run; median of 41 runs):');
  for (const e of extensions) {
    out(`  ${e.helper.padEnd(30)} interpreter ${e.interpNs.toFixed(0).padStart(5)} ns   JIT ${e.jitNs.toFixed(0).padStart(4)} ns (${(1e9 / e.jitNs / 1e6).toFixed(1)} M calls/s)`);
  }
}
if (!json && replays.length) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  out('replay of the firewall example (ebpf-wasm replay --json, one process each; reading the capture included):');
  for (const r of replays) {
    const how = r.engine === 'interp' ? 'interp' : r.lane ? 'jit' : 'jit, --no-lane';
    out(`  ${r.packets.toLocaleString('en-US').padStart(10)} frames (${r.captureMb.toFixed(0)} MB) on ${how.padEnd(14)}: ${r.packetsPerSecond.toLocaleString('en-US').padStart(9)} packets/s, ${String(r.nsPerPacket).padStart(5)} ns per packet in the datapath, peak RSS ${r.peakRssMb} MB${r.lanePackets ? `, ${((100 * r.lanePackets) / r.packets).toFixed(1)}% through the lane` : ''}`);
  }
}
if (!json && skStorage.length) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  out('socket storage against a hash map keyed by socket cookie (sk_storage.o bench_storage / bench_hash, ns per run as BPF_PROG_TEST_RUN times it;');
  out('the proposal measured 66 vs 152 ns on Linux; scripts/kernel-oracle/sk-storage.mjs --bench times the same objects on this kernel):');
  for (const f of skStorage) {
    const above = (ns: number) => ns - f.emptyNs;
    out(`  ${f.engine.padEnd(6)}: storage ${f.storageNs} ns, hash ${f.hashNs} ns per run: ${(f.hashNs / f.storageNs).toFixed(2)}x; above an empty run (${f.emptyNs} ns): ${above(f.storageNs)} vs ${above(f.hashNs)} ns, ${(above(f.hashNs) / above(f.storageNs)).toFixed(2)}x`);
  }
}
if (!json && callbacks.length) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  out('bpf_loop: ns per callback against ns per iteration of the same work in a plain loop (Linux: about 10 ns a callback):');
  for (const f of callbacks) out(`  ${f.engine.padEnd(6)}: ${f.callbackNs.toFixed(1)} ns a callback, ${f.iterationNs.toFixed(1)} ns an iteration (${(f.callbackNs / f.iterationNs).toFixed(1)}x)`);
  out('bpf_for_each_map_elem: ns per callback over 1,000 elements (target on the JIT: <= 30 ns):');
  for (const f of callbacks) out(`  ${f.engine.padEnd(6)}: array ${f.forEachArrayNs.toFixed(1)} ns, hash ${f.forEachHashNs.toFixed(1)} ns`);
}
if (!json && linux) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  for (const line of linuxLines(linux)) out(line);
}
if (!json && verification) {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('');
  out('verification (median of several runs; processed = instructions walked, as Linux counts insn_processed):');
  for (const f of [...verification.synthetic, ...verification.programs]) {
    out(`  ${f.program.padEnd(34)} ${String(f.instructions).padStart(6)} insns ${String(f.processed).padStart(7)} processed ${String(f.states).padStart(5)} states ${f.ms.toFixed(1).padStart(8)} ms  ${f.msPer1000.toFixed(1).padStart(7)} ms per 1,000 insns`);
  }
}
