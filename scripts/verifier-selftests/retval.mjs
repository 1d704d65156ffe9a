#!/usr/bin/env node
// Runs the verifier selftest programs of our program types that the kernel accepts and runs with a
// __retval, the way their harness does (prog_tests/verifier.c and test_loader.c: BPF_PROG_TEST_RUN
// on 64 zero bytes with room for 256 out, repeat 1, and the two maps some tests pre-fill filled),
// and reports how many give the kernel's retval here, on each engine. Reads what build.sh wrote
// ($WORK/objects/*.o and $WORK/kernel-verdicts.jsonl, whose "run" is the kernel's own test run)
// and the built dist/.
//
//   node scripts/verifier-selftests/retval.mjs [--engine interp|jit] [--verbose] [--only FILE] [--json OUT]
//
// A program loads as Runtime.loadObject loads it, with its object's __auxiliary programs only
// (loadObject's `programs`), so that another program of its object failing does not count against it. __retval(POINTER_VALUE) asks only that
// the run succeed, as the harness does.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelVerdicts, objectPath, OURS, WORK } from './corpus.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const verbose = args.includes('--verbose');
const only = option('--only');
const jsonOut = option('--json');
const engines = option('--engine') ? [option('--engine')] : ['interp', 'jit'];

const { Runtime } = await import(join(ROOT, 'dist/runtime/runtime.js'));
const { loadObjectSpec } = await import(join(ROOT, 'dist/loader/object.js'));

const TEST_DATA_LEN = 64;

const all = kernelVerdicts();
const entries = all.filter((e) => OURS.test(e.section) && e.kernel === 'accepted' && e.run && (!only || e.file === only));
if (entries.length === 0) {
  console.error(`no runs in ${WORK}/kernel-verdicts.jsonl: run scripts/verifier-selftests/build.sh (as root) first`);
  process.exit(1);
}

/**
 * The object's __auxiliary programs (tail-call targets and the like), which the harness loads with
 * each test: the programs kernel-verdicts.c did not list, since it skips them.
 */
const auxiliaries = new Map();
function auxiliaryPrograms(file) {
  if (!auxiliaries.has(file)) {
    const listed = new Set(all.filter((e) => e.file === file).map((e) => e.program));
    let names = [];
    try {
      const spec = loadObjectSpec(new Uint8Array(readFileSync(objectPath(file))), file);
      names = [...spec.programs, ...(spec.failures ?? [])].map((p) => p.name).filter((n) => !listed.has(n));
    } catch {
      // The object does not load at all; ours() reports why.
    }
    auxiliaries.set(file, names);
  }
  return auxiliaries.get(file);
}

/** prog_tests/verifier.c's init_test_val_map: key 0 gets struct test_val { index 28, foo[6] 0xabcdef12 }. */
function prefill(obj) {
  for (const name of ['map_array_ro', 'map_array_48b']) {
    if (!obj.maps.has(name)) continue;
    const map = obj.map(name);
    const value = new Uint8Array(map.valueSize);
    const view = new DataView(value.buffer);
    view.setUint32(0, 7 * 4, true);
    view.setUint32(4 + 6 * 4, 0xabcdef12, true);
    map.update(new Uint8Array(4), value);
  }
}

/** Our run of one program: { retval } or { errno } of the test run, or { error } where it did not load or run. */
async function ours(entry, engine) {
  const runtime = new Runtime({ engine });
  let obj;
  try {
    obj = await runtime.loadObject(objectPath(entry.file), { programs: [entry.program, ...auxiliaryPrograms(entry.file)] });
  } catch (err) {
    return { error: `load: ${err.message.replace(/^\S+\.o: /, '')}`, stage: 'load' };
  }
  try {
    prefill(obj);
    const result = obj.program(entry.program).testRun({ dataIn: new Uint8Array(TEST_DATA_LEN), dataSizeOut: TEST_DATA_LEN * 4 });
    return { retval: result.retval >>> 0 };
  } catch (err) {
    const errno = /\((-\d+)\)/.exec(err.message)?.[1];
    if (errno && /test run refused/.test(err.message)) return { errno: Number(errno) };
    return { error: `run: ${err.message}`, stage: 'run' };
  } finally {
    obj.close();
  }
}

function agrees(entry, result) {
  if (entry.run.errno !== 0) return result.errno === entry.run.errno;
  if (result.retval === undefined) return false;
  return entry.retval === 'POINTER_VALUE' || result.retval === entry.run.retval;
}

const report = {};
for (const engine of engines) {
  const rows = [];
  for (const entry of entries) {
    let result;
    try {
      result = await ours(entry, engine);
    } catch (err) {
      result = { error: `crash: ${err.stack.split('\n').slice(0, 3).join(' | ')}`, stage: 'crash' };
    }
    rows.push({ file: entry.file, program: entry.program, section: entry.section, kernel: entry.run, annotation: entry.retval, ours: result, agrees: agrees(entry, result) });
  }
  const good = rows.filter((r) => r.agrees).length;
  report[engine] = { programs: rows.length, agree: good, rows };
  const wrong = rows.filter((r) => !r.agrees);
  if (verbose) {
    for (const r of wrong) console.log(`${engine} ${r.file} ${r.program} (${r.section}): kernel ${JSON.stringify(r.kernel)}, ours ${JSON.stringify(r.ours)}`);
  }
  // Why the others differ, by kind of reason (numbers folded, so that kinds group).
  const reasons = new Map();
  for (const r of wrong) {
    const why = r.ours.error ? r.ours.error.replace(/\d+/g, 'N').slice(0, 140) : `different result: kernel ${r.kernel.errno ? `errno ${r.kernel.errno}` : 'ran'}, ours ${r.ours.errno ? `errno ${r.ours.errno}` : 'ran'}`;
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  console.log(`\n${engine}: ${good} of ${rows.length} give the kernel's retval (${((100 * good) / rows.length).toFixed(1)}%)`);
  for (const [why, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${why}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2));
