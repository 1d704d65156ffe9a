#!/usr/bin/env node
// Kernel oracle for XDP test runs (opt-in; needs root, bpffs, bpftool and a built dist/): small XDP
// programs that call bpf_xdp_adjust_head/meta/tail and bpf_xdp_load/store_bytes are assembled, run
// by the kernel with `bpftool prog run` (bpftool-test-run.mjs) over a set of packets, deltas and
// contexts, and by xdpTestRun on the interpreter and the JIT. The errno, retval, data_out
// and ctx_out must agree. Exits 1 on a mismatch.
//
//   npx tsc -p . && node scripts/kernel-oracle/xdp-test-run.mjs [--verbose]     (as root; bpffs at /sys/fs/bpf)
//
// Last run (Linux 6.18.44, bpftool 7.1.0): 149 cases (32 of them multi-buffer), 298 engine runs
// agree, 0 mismatch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory, assemble, createExecutor, encode, helperTable } from '../../dist/index.js';
import { XdpRunner, XdpTestRunError, encodeXdpMd } from '../../dist/runtime/xdp.js';
import { hex, kernelTestRun, same, show } from './bpftool-test-run.mjs';
import { PROGRAMS } from './xdp-programs.mjs';

const verbose = process.argv.includes('--verbose');
const work = mkdtempSync(join(tmpdir(), 'xdp-oracle-'));
const pin = `/sys/fs/bpf/ebpf_wasm_xdp_oracle_${process.pid}`;


const packet = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

/** The cases: program, packet, and test-run attributes. */
function cases() {
  const out = [];
  const add = (name, program, args, dataIn, attrs = {}) => out.push({ name, asm: PROGRAMS[program](...args), dataIn, ...attrs });
  for (const size of [13, 14, 15, 60, 64, 1500, 3519, 3520, 3521]) add(`pass size ${size}`, 'pass', [], packet(size));
  for (const d of [-300, -217, -216, -215, -200, -64, -1, 0, 1, 2, 46, 49, 50, 51, 100]) add(`head ${d}`, 'head', [d], packet(64));
  for (const d of [-300, -217, -216, -212, -256, -252, -36, -32, -33, -30, -4, -3, -1, 0, 4, 1]) add(`meta ${d}`, 'meta', [d], packet(64));
  for (const d of [-100, -51, -50, -49, -1, 0, 1, 100, 3455, 3456, 3457, 4000]) add(`tail ${d}`, 'tail', [d], packet(64));
  for (const d of [1, 2, 1436, 1437]) add(`tail ${d} on 1500`, 'tail', [d], packet(1500));
  for (const [m, h] of [[-4, 4], [-8, -8], [-32, -184], [-32, -185], [-32, -176], [-8, 40], [-8, 51], [-4, -212], [-4, -213]]) {
    add(`meta ${m} then head ${h}`, 'metaHead', [m, h], packet(64));
  }
  for (const [off, len] of [[0, 1], [0, 16], [48, 16], [49, 16], [63, 1], [64, 1], [100, 4], [65535, 1], [65536, 1], [-1, 4]]) {
    add(`load ${off}/${len}`, 'loadStore', [off, len], packet(64));
  }
  for (const [off, len] of [[0, 16], [10, 4], [48, 16], [49, 16], [64, 1], [65536, 2]]) add(`store ${off}/${len}`, 'store', [off, len], packet(64));
  add('repeat 5 head +2', 'head', [2], packet(64), { repeat: 5 });
  add('repeat 3 tail +10', 'tail', [10], packet(64), { repeat: 3 });
  add('repeat 40 head -8 (runs out)', 'head', [-8], packet(64), { repeat: 40 });
  add('data_size_out 80 >= output', 'pass', [], packet(64), { dataSizeOut: 80 });
  add('data_size_out 32 < output', 'pass', [], packet(64), { dataSizeOut: 32 });
  add('data_size_out 64 after tail +1', 'tail', [1], packet(64), { dataSizeOut: 64 });
  const md = (f) => encodeXdpMd({ data: 0, dataEnd: 64, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0, ...f });
  add('ctx_out only', 'fields', [], packet(64), { ctxOut: true });
  add('ctx: plain', 'fields', [], packet(64), { ctxIn: md({}), ctxOut: true });
  add('ctx: meta 4', 'fields', [], packet(64), { ctxIn: md({ data: 4 }), ctxOut: true });
  add('ctx: meta 32', 'fields', [], packet(64), { ctxIn: md({ data: 32 }), ctxOut: true });
  add('ctx: meta 36', 'fields', [], packet(64), { ctxIn: md({ data: 36 }), ctxOut: true });
  add('ctx: meta 252', 'fields', [], packet(300), { ctxIn: md({ data: 252, dataEnd: 300 }), ctxOut: true });
  for (const m of [200, 212, 216, 220, 224, 248]) add(`ctx: meta ${m}`, 'fields', [], packet(300), { ctxIn: md({ data: m, dataEnd: 300 }), ctxOut: true });
  add('ctx: meta 256', 'fields', [], packet(300), { ctxIn: md({ data: 256, dataEnd: 300 }), ctxOut: true });
  add('ctx: meta 3', 'fields', [], packet(64), { ctxIn: md({ data: 3 }), ctxOut: true });
  add('ctx: data_meta 4', 'fields', [], packet(64), { ctxIn: md({ dataMeta: 4, data: 4 }), ctxOut: true });
  add('ctx: data_end short', 'fields', [], packet(64), { ctxIn: md({ dataEnd: 60 }), ctxOut: true });
  add('ctx: lo queue 0', 'fields', [], packet(64), { ctxIn: md({ ingressIfindex: 1 }), ctxOut: true });
  add('ctx: lo queue 1', 'fields', [], packet(64), { ctxIn: md({ ingressIfindex: 1, rxQueueIndex: 1 }), ctxOut: true });
  add('ctx: queue without device', 'fields', [], packet(64), { ctxIn: md({ rxQueueIndex: 1 }), ctxOut: true });
  add('ctx: no such device', 'fields', [], packet(64), { ctxIn: md({ ingressIfindex: 99999 }), ctxOut: true });
  add('ctx: data_end 0 of 64', 'fields', [], packet(64), { ctxIn: md({ dataEnd: 0 }), ctxOut: true });
  add('ctx: data_end 1 of 64', 'fields', [], packet(64), { ctxIn: md({ dataEnd: 1 }), ctxOut: true });
  add('ctx: meta 4, data_end 4 of 64', 'fields', [], packet(64), { ctxIn: md({ data: 4, dataEnd: 4 }), ctxOut: true });
  add('ctx: data_end 10 of 64', 'fields', [], packet(64), { ctxIn: md({ dataEnd: 10 }), ctxOut: true });
  add('ctx: data_end 65 of 64', 'fields', [], packet(64), { ctxIn: md({ dataEnd: 65 }), ctxOut: true });
  add('ctx: egress set', 'fields', [], packet(64), { ctxIn: md({ egressIfindex: 1 }), ctxOut: true });
  add('ctx: meta 8 then head -8', 'metaHead', [-8, -8], packet(64), { ctxIn: md({ data: 8 }), ctxOut: true });
  add('ctx: long ctx_in zero tail', 'fields', [], packet(64), { ctxIn: Uint8Array.from([...md({}), 0, 0, 0, 0]), ctxOut: true });
  add('ctx: long ctx_in non-zero tail', 'fields', [], packet(64), { ctxIn: Uint8Array.from([...md({}), 0, 0, 1, 0]), ctxOut: true });
  add('ctx: short ctx_size_out', 'fields', [], packet(64), { ctxIn: md({}), ctxOut: true, ctxSizeOut: 8 });
  // Multi-buffer frames: data_in past the linear part goes into page fragments.
  const big = { dataSizeOut: 80000 };
  for (const size of [3521, 4000, 7616, 7617, 9000, 3520 + 17 * 4096, 3521 + 17 * 4096]) add(`frags: buff_len of ${size}`, 'buffLen', [], packet(size), big);
  add('frags: data_end 60 of 64', 'buffLen', [], packet(64), { ...big, ctxIn: md({ dataEnd: 60 }) });
  add('frags: meta 8, data_end 100 of 5000', 'buffLen', [], packet(5000), { ...big, ctxIn: md({ data: 8, dataEnd: 100 }) });
  for (const [off, len] of [[3510, 16], [3520, 16], [7600, 32], [8990, 10], [8990, 11], [0, 9000]]) add(`frags: load ${off}/${len}`, 'loadStore', [off, len > 16 ? 16 : len], packet(9000), big);
  for (const [off, len] of [[3512, 16], [7610, 16], [8990, 10], [8995, 10]]) add(`frags: store ${off}/${len}`, 'store', [off, len], packet(9000), big);
  for (const d of [1, 2712, 2713, -1, -1384, -1385, -5480, -5500, -8986, -8987, -9000]) add(`frags: tail ${d} of 9000`, 'tailLen', [d], packet(9000), big);
  add('frags: tail +10 on 3521', 'tailLen', [10], packet(3521), big);
  add('frags: head -8 on 9000', 'head', [-8], packet(9000), big);
  // Packets larger than a page, on a plain xdp program and an xdp.frags one: Linux builds a multi-buffer frame for both.
  for (const section of ['xdp', 'xdp.frags']) {
    for (const size of [4100, 8200]) {
      add(`${section}: pass ${size}`, 'pass', [], packet(size), { ...big, section });
      add(`${section}: buff_len of ${size}`, 'buffLen', [], packet(size), { ...big, section });
      add(`${section}: load 4090/8 of ${size}`, 'loadStore', [4090, 8], packet(size), { ...big, section });
      add(`${section}: tail -10 of ${size}`, 'tailLen', [-10], packet(size), { ...big, section });
    }
  }
  return out;
}

/** Runs one case on the kernel: { errno } or { errno: 0, retval, dataOut, ctxOut }, or { reject }. */
function kernelRun(c, base) {
  return kernelTestRun({ ...c, code: encode(assemble(c.asm)), section: c.section ?? 'xdp', ctxSizeOut: c.ctxSizeOut ?? 24 }, base, pin);
}

/** Runs one case on our engine, in the shape kernelRun returns (bpftool shows no output on an error). */
async function ourRun(c, engine) {
  const memory = new GuestMemory();
  const runner = new XdpRunner(memory);
  const exec = await createExecutor(assemble(c.asm), engine, { memory, helpers: helperTable(runner.helpers) });
  try {
    const r = runner.testRun(exec, { dataIn: c.dataIn, dataSizeOut: c.dataSizeOut, ctxIn: c.ctxIn, ctxOut: c.ctxOut, ctxSizeOut: c.ctxSizeOut, repeat: c.repeat });
    if (r.errno !== 0) return { errno: r.errno };
    return { errno: 0, retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut };
  } catch (err) {
    if (err instanceof XdpTestRunError) return { errno: err.errno };
    throw err;
  } finally {
    exec.dispose();
  }
}

const tally = { agree: 0, mismatch: 0, rejected: 0 };
try {
  const all = cases();
  for (const [i, c] of all.entries()) {
    const kernel = kernelRun(c, join(work, `case${i}`));
    if (kernel.reject || kernel.failure) {
      tally.rejected++;
      console.log(`REJECT   ${c.name}: ${show(kernel)}`);
      continue;
    }
    for (const engine of ['interp', 'jit']) {
      const ours = await ourRun(c, engine);
      if (same(kernel, ours)) {
        tally.agree++;
        if (verbose) console.log(`AGREE    ${c.name} [${engine}]: ${show(kernel)}`);
      } else {
        tally.mismatch++;
        console.log(`MISMATCH ${c.name} [${engine}]: kernel ${show(kernel)}; ours ${show(ours)}`);
        if (verbose || kernel.dataOut?.length === ours.dataOut?.length) console.log(`  kernel ${hex(kernel.dataOut)}\n  ours   ${hex(ours.dataOut)}`);
      }
    }
  }
  console.log(`xdp test-run oracle: ${all.length} cases, ${tally.agree} engine runs agree, ${tally.mismatch} mismatch, ${tally.rejected} cases rejected by the kernel`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (tally.mismatch > 0 || tally.rejected > 0) process.exitCode = 1;
