// `npm run bench`: measures the interpreter on each workload: ns per run and ns per executed
// instruction. Figures are medians of several timed batches after a warm-up.
import { assemble, CONFORMANCE_HELPERS, GuestMemory, Interpreter } from '../index.js';
import { WORKLOADS, type Workload } from './workloads.js';

interface Measurement {
  workload: string;
  instructionsPerRun: number;
  nsPerRun: number;
  nsPerInstruction: number;
}

const BATCH_MS = 200;
const BATCHES = 5;

function measure(w: Workload): Measurement {
  const memory = new GuestMemory();
  const block = w.memBytes > 0 ? memory.allocate(w.memBytes, 'bench memory') : undefined;
  const address = block?.start ?? 0;
  const vm = new Interpreter(assemble(w.asm, { source: w.name }), { memory, helpers: CONFORMANCE_HELPERS });
  const args = { args: [address, w.memBytes] };
  const instructions = vm.run(args).instructions;
  // Warm up until the optimizing compiler has settled, then time batches.
  const warmEnd = performance.now() + BATCH_MS;
  while (performance.now() < warmEnd) vm.run(args);
  const perRun: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    let runs = 0;
    const start = performance.now();
    let now = start;
    while (now - start < BATCH_MS) {
      vm.run(args);
      runs++;
      now = performance.now();
    }
    perRun.push(((now - start) * 1e6) / runs);
  }
  perRun.sort((a, b) => a - b);
  const nsPerRun = perRun[Math.floor(BATCHES / 2)]!;
  return { workload: w.name, instructionsPerRun: instructions, nsPerRun, nsPerInstruction: nsPerRun / instructions };
}

const json = process.argv.includes('--json');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const results = WORKLOADS.filter((w) => !only || w.name === only).map(measure);
if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, interpreter: results }, null, 2)}\n`);
} else {
  process.stdout.write(`interpreter (node ${process.version})\n`);
  process.stdout.write(`${'workload'.padEnd(12)} ${'insns/run'.padStart(10)} ${'ns/run'.padStart(12)} ${'ns/insn'.padStart(8)}\n`);
  for (const r of results) {
    process.stdout.write(`${r.workload.padEnd(12)} ${String(r.instructionsPerRun).padStart(10)} ${r.nsPerRun.toFixed(0).padStart(12)} ${r.nsPerInstruction.toFixed(2).padStart(8)}\n`);
  }
}
