#!/usr/bin/env node
// Kernel oracle for our own `.data` suite (opt-in; needs root, bpffs and bpftool, and a built dist/):
// runs every test without `-- error` on the running Linux kernel's verifier and JIT through
// bpftool, and compares the kernel's 64-bit r0 with the file's `-- result`. With --errors it also
// loads the `-- error` tests, unmodified, to see whether the kernel refuses them too. Exits 1 on a
// mismatch or on an error test the kernel runs. See README.md.
//
//   sudo node scripts/kernel-oracle/run.mjs [--errors] [--verbose] [--keep DIR] [PATH...]   (default: tests/data)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble, encode, parseDataFile, rawToBytes } from '../../dist/index.js';
import { writeElf } from './elf.mjs';
import { packetFor, wrapProgram } from './wrap.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let verbose = false;
let errors = false;
let keepDir;
const paths = [];
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--verbose') verbose = true;
  else if (a === '--errors') errors = true;
  else if (a === '--keep') keepDir = resolve(process.argv[++i]);
  else paths.push(resolve(a));
}
const inputs = paths.length > 0 ? paths : [join(root, 'tests', 'data')];

/** Every `.data` file under the given paths, sorted. */
function dataFiles(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { recursive: true })
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => join(path, f));
}

/**
 * Why a load failed: the verifier's reason (the last log line before "processed N insns"), or,
 * when the kernel never saw the program, libbpf's first complaint.
 */
function rejection(stderr) {
  const lines = stderr.split('\n');
  const begin = lines.findIndex((l) => l.includes('-- BEGIN PROG LOAD LOG --'));
  const end = lines.findIndex((l) => l.includes('-- END PROG LOAD LOG --'));
  if (begin >= 0 && end > begin) {
    const log = lines.slice(begin + 1, end).filter((l) => l.trim() !== '');
    const processed = log.findIndex((l) => /^processed \d+ insns/.test(l));
    // State dumps ("cur state: ...", "old state: ...") may follow the reason.
    const reason = (processed >= 0 ? log.slice(0, processed) : log).filter((l) => !/^(cur|old) state:/.test(l)).at(-1);
    if (reason) return `kernel rejects: ${reason.trim()}`;
  }
  const libbpf = lines.find((l) => l.startsWith('libbpf:'));
  return `loader rejects: ${(libbpf ?? lines.find((l) => l.trim() !== '') ?? 'load failed').trim()}`;
}

function bpftool(argv) {
  // Verifier logs of long-running loops are large.
  return execFileSync('bpftool', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
}

const work = mkdtempSync(join(tmpdir(), 'kernel-oracle-'));
const pin = `/sys/fs/bpf/ebpf_wasm_oracle_${process.pid}`;
const hex = (v) => `0x${v.toString(16)}`;

/** The test program as bytes, exactly as written (raw words or assembled text, not validated). */
function programBytes(test, name) {
  if (test.raw) return rawToBytes(test.raw, name);
  return encode(assemble(test.asm, { source: name, firstLine: test.asmLine ?? 1 }));
}

/**
 * Loads and runs one test on the kernel. Returns a status: 'agree' | 'mismatch' | 'rejects' for
 * result tests, 'also-rejects' | 'accepts' for error tests, 'skipped' when it cannot be translated.
 */
function runOne(file) {
  const name = relative(root, file);
  const test = parseDataFile(readFileSync(file, 'utf8'), name);
  if (!test) return { status: 'skipped', detail: 'no result or error section' };
  if (test.expectsError && !errors) return { status: 'skipped', detail: 'has -- error (use --errors)' };
  let elf;
  let packet;
  let layout;
  try {
    packet = packetFor(test.mem);
    // Error tests go to the kernel unmodified, as a subprogram; result tests run inline when they can.
    const wrapped = wrapProgram(programBytes(test, name), test.mem.length, { inline: !test.expectsError, helpers: test.expectsError });
    elf = writeElf({ ...wrapped, license: 'GPL' });
    layout = wrapped.layout;
  } catch (err) {
    return { status: 'skipped', detail: err.message };
  }
  const flat = name.replace(/^(\.\.\/)+/, '').replaceAll('/', '__');
  const base = join(work, flat);
  writeFileSync(`${base}.o`, elf);
  writeFileSync(`${base}.in`, packet);
  if (keepDir) {
    mkdirSync(keepDir, { recursive: true });
    writeFileSync(join(keepDir, `${flat}.o`), elf);
  }
  rmSync(pin, { force: true });
  try {
    bpftool(['prog', 'load', `${base}.o`, pin]);
  } catch (err) {
    const reason = rejection(String(err.stderr ?? err.message));
    return { status: test.expectsError ? 'also-rejects' : 'rejects', detail: reason };
  }
  try {
    const out = bpftool(['prog', 'run', 'pinned', pin, 'data_in', `${base}.in`, 'data_out', `${base}.out`, 'data_size_out', String(packet.length), 'repeat', '1']);
    const ret = /Return value: (\d+)/.exec(out)?.[1];
    const data = readFileSync(`${base}.out`);
    if (ret !== '2' || data.length < 8) return { status: test.expectsError ? 'accepts' : 'mismatch', detail: `run did not reach the epilogue (return ${ret}, ${data.length} bytes out)` };
    const r0 = data.readBigUInt64LE(0);
    if (test.expectsError) return { status: 'accepts', detail: `kernel ran it: r0 = ${hex(r0)} (${layout})` };
    const expected = test.result ?? 0n;
    if (r0 === expected) return { status: 'agree', detail: `${hex(r0)} (${layout})` };
    return { status: 'mismatch', detail: `expected ${hex(expected)}, kernel ${hex(r0)} (${layout})` };
  } catch (err) {
    return { status: test.expectsError ? 'also-rejects' : 'mismatch', detail: `run failed: ${String(err.stderr ?? err.message).trim().split('\n')[0]}` };
  } finally {
    rmSync(pin, { force: true });
  }
}

const tally = { agree: 0, rejects: 0, mismatch: 0, 'also-rejects': 0, accepts: 0, skipped: 0 };
const LABEL = { agree: 'AGREE', rejects: 'REJECT', mismatch: 'MISMATCH', 'also-rejects': 'ERR-OK', accepts: 'ERR-RUNS', skipped: 'SKIPPED' };
const QUIET = new Set(['agree', 'also-rejects', 'skipped']);

try {
  for (const input of inputs) {
    for (const file of dataFiles(input)) {
      const { status, detail } = runOne(file);
      tally[status]++;
      if (verbose || !QUIET.has(status)) {
        console.log(`${LABEL[status].padEnd(9)}${relative(root, file)}: ${detail}`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`kernel oracle, result tests: ${tally.agree} agree, ${tally.rejects} kernel-rejects, ${tally.mismatch} mismatch`);
if (errors) console.log(`kernel oracle, error tests: ${tally['also-rejects']} refused by the kernel too, ${tally.accepts} run by the kernel`);
console.log(`not run: ${tally.skipped} (helper calls, function pointers${errors ? '' : ', -- error tests'})`);
if (tally.mismatch > 0 || tally.accepts > 0) process.exitCode = 1;
