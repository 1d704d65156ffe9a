#!/usr/bin/env node
// Measures how often our verifier agrees with the running kernel's on Linux's verifier selftests,
// for the program types this runtime runs (socket, tc, xdp, cgroup_skb). Reads what build.sh wrote
// ($WORK/objects/*.o and $WORK/kernel-verdicts.jsonl) and the built dist/.
//
//   node scripts/verifier-selftests/agreement.mjs [--verbose] [--only FILE] [--json OUT]
//
// A program is loaded the way Runtime.loadObject loads it (ELF, CO-RE, the program type's helper
// table), then verified. The kernel's verdict is the reference even where it differs from the
// test's own annotation (6 programs on Linux 6.18).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelVerdicts, objectPath, OURS } from './corpus.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;

const { Runtime } = await import(join(ROOT, 'dist/runtime/runtime.js'));
const { loadObjectSpec } = await import(join(ROOT, 'dist/loader/object.js'));
const { applyCoreRelocations } = await import(join(ROOT, 'dist/loader/core.js'));
const { verify } = await import(join(ROOT, 'dist/verifier/verifier.js'));
const { verifierInputOf } = await import(join(ROOT, 'dist/verifier/program-input.js'));

const BPF_F_STRICT_ALIGNMENT = 1;

const kernel = kernelVerdicts()
  .filter((l) => OURS.test(l.section) && (!only || l.file === only));
const runtime = new Runtime();
const specs = new Map();

function specOf(file) {
  if (!specs.has(file)) {
    try {
      specs.set(file, loadObjectSpec(new Uint8Array(readFileSync(objectPath(file))), file));
    } catch (err) {
      specs.set(file, err);
    }
  }
  return specs.get(file);
}

/** Our verdict on one program: accepted, or rejected with a one-line reason. */
function ours(entry) {
  const spec = specOf(entry.file);
  if (spec instanceof Error) return { verdict: 'rejected', reason: `load: ${spec.message}`, stage: 'load' };
  const program = spec.programs.find((p) => p.name === entry.program);
  if (!program) return { verdict: 'rejected', reason: 'load: program not found in the object', stage: 'load' };
  let insns;
  try {
    insns = applyCoreRelocations(program, spec, runtime.btf, { poison: true }).insns;
  } catch (err) {
    return { verdict: 'rejected', reason: `core: ${err.message}`, stage: 'load' };
  }
  const helpers = runtime.helpersFor(program.type);
  const started = performance.now();
  const result = verify(verifierInputOf(spec, program, insns, helpers, { strictAlignment: (entry.flags & BPF_F_STRICT_ALIGNMENT) !== 0 }));
  const ms = performance.now() - started;
  if (result.accepted) return { verdict: 'accepted', ms, processed: result.insnsProcessed };
  return { verdict: 'rejected', reason: result.error.report.message.split('\n')[0], kind: result.error.report.kind, stage: 'verify', ms, processed: result.insnsProcessed };
}

const rows = [];
for (const entry of kernel) {
  let result;
  try {
    result = ours(entry);
  } catch (err) {
    result = { verdict: 'rejected', reason: `crash: ${err.stack.split('\n').slice(0, 3).join(' | ')}`, stage: 'crash' };
  }
  rows.push({ ...entry, ours: result });
}

const acc = rows.filter((r) => r.kernel === 'accepted');
const rej = rows.filter((r) => r.kernel === 'rejected');
const accAgree = acc.filter((r) => r.ours.verdict === 'accepted').length;
const rejAgree = rej.filter((r) => r.ours.verdict === 'rejected').length;
const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) : '-');

const falseRejects = acc.filter((r) => r.ours.verdict !== 'accepted');
const falseAccepts = rej.filter((r) => r.ours.verdict !== 'rejected');
const groups = new Map();
for (const r of falseRejects) {
  const k = `${r.ours.stage}: ${r.ours.reason.replace(/\d+/g, 'N').slice(0, 90)}`;
  groups.set(k, (groups.get(k) ?? 0) + 1);
}
if (verbose) {
  console.log('Kernel accepts, we reject:');
  for (const r of falseRejects) console.log(`  ${r.file} ${r.program}: ${r.ours.reason}`);
  console.log('Kernel rejects, we accept:');
  for (const r of falseAccepts) console.log(`  ${r.file} ${r.program}: kernel: ${r.log.split('\n').filter(Boolean).slice(-2, -1)[0] ?? ''}`);
} else {
  console.log('Why we reject what the kernel accepts (grouped):');
  for (const [k, n] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${String(n).padStart(4)}  ${k}`);
  console.log(`Kernel rejects, we accept: ${falseAccepts.map((r) => `${r.file.replace(/^verifier_|\.o$/g, '')}/${r.program}`).join(' ')}`);
}
const times = rows.map((r) => r.ours.ms ?? 0).sort((a, b) => a - b);
console.log(`\n${rows.length} programs (kernel ${acc.length} accepted, ${rej.length} rejected)`);
console.log(`agreement on the kernel's accepts: ${accAgree}/${acc.length} = ${pct(accAgree, acc.length)}%`);
console.log(`agreement on the kernel's rejects: ${rejAgree}/${rej.length} = ${pct(rejAgree, rej.length)}%`);
console.log(`verification time: median ${times[Math.floor(times.length / 2)]?.toFixed(2)} ms, max ${times.at(-1)?.toFixed(1)} ms`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(rows.map((r) => ({ file: r.file, program: r.program, section: r.section, kernel: r.kernel, kernelProcessed: r.processed, ours: r.ours.verdict, reason: r.ours.reason, ms: r.ours.ms, processed: r.ours.processed })), null, 1));
