// One BPF_PROG_TEST_RUN on the running kernel through bpftool, shared by the test-run oracles
// (xdp-test-run.mjs, skb-test-run.mjs): writes the program as an ELF object in the section that gives
// its type (elf.mjs), loads and pins it with `bpftool prog load`, runs it with `bpftool prog run`,
// and reads back retval, data_out and ctx_out. Test-run flags, which bpftool cannot pass, go through
// the bpf(2) syscall in test-run-syscall.py. Needs root and bpffs at /sys/fs/bpf.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeElf } from './elf.mjs';

/** errno values by the strerror text bpftool prints. */
const ERRNO = {
  'Invalid argument': -22, 'No space left on device': -28, 'Argument list too long': -7, 'No such device': -19,
  'Bad address': -14, 'Permission denied': -13, 'Message too long': -90, 'Bad message': -74, 'Cannot allocate memory': -12,
};

/**
 * Runs one case on the kernel. Returns { errno: 0, retval, dataOut, ctxOut }, { errno } when the run
 * was refused (bpftool prints nothing else then), { reject } when loading failed, or { failure }.
 * @param {object} c
 * @param {Uint8Array} c.code the program's instructions, encoded
 * @param {string} c.section the ELF section, which tells libbpf the program type ("xdp", "tc", "socket", "cgroup_skb/ingress")
 * @param {Uint8Array} c.dataIn
 * @param {number} [c.dataSizeOut]
 * @param {Uint8Array} [c.ctxIn]
 * @param {boolean} [c.ctxOut]
 * @param {number} [c.ctxSizeOut]
 * @param {number} [c.repeat]
 * @param {number} [c.flags] BPF_PROG_TEST_RUN flags (run through the syscall rather than bpftool)
 * @param {string} base path prefix for the scratch files
 * @param {string} pin bpffs path to pin the program at while it runs
 */
export function kernelTestRun(c, base, pin) {
  const elf = writeElf({
    programs: [{ name: c.section, code: c.code }],
    functions: [{ name: 'prog', section: c.section, offset: 0, size: c.code.length, global: true }],
    calls: [],
    license: 'GPL',
  });
  writeFileSync(`${base}.o`, elf);
  writeFileSync(`${base}.in`, c.dataIn);
  rmSync(pin, { force: true });
  try {
    execFileSync('bpftool', ['prog', 'load', `${base}.o`, pin], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return { reject: String(err.stderr).split('\n').filter((l) => l.trim()).slice(-3).join(' | ') };
  }
  if (c.flags) return syscallTestRun(c, base, pin);
  const argv = ['prog', 'run', 'pinned', pin, 'data_in', `${base}.in`, 'data_out', `${base}.out`, 'repeat', String(c.repeat ?? 1)];
  if (c.dataSizeOut) argv.push('data_size_out', String(c.dataSizeOut));
  if (c.ctxIn) {
    writeFileSync(`${base}.ctx`, c.ctxIn);
    argv.push('ctx_in', `${base}.ctx`);
  }
  if (c.ctxOut) argv.push('ctx_out', `${base}.ctxout`, 'ctx_size_out', String(c.ctxSizeOut));
  rmSync(`${base}.out`, { force: true });
  rmSync(`${base}.ctxout`, { force: true });
  try {
    const out = execFileSync('bpftool', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const retval = Number(/Return value: (\d+)/.exec(out)?.[1]);
    const dataOut = new Uint8Array(readFileSync(`${base}.out`));
    const ctxOut = c.ctxOut && existsSync(`${base}.ctxout`) ? new Uint8Array(readFileSync(`${base}.ctxout`)) : undefined;
    return { errno: 0, retval, dataOut, ctxOut };
  } catch (err) {
    const text = String(err.stderr ?? err.message);
    const name = Object.keys(ERRNO).find((k) => text.includes(k));
    return name ? { errno: ERRNO[name] } : { failure: text.trim() };
  } finally {
    rmSync(pin, { force: true });
  }
}

/** The test run of kernelTestRun through test-run-syscall.py, for attributes bpftool has no option for. */
function syscallTestRun(c, base, pin) {
  const script = fileURLToPath(new URL('./test-run-syscall.py', import.meta.url));
  if (c.ctxIn) writeFileSync(`${base}.ctx`, c.ctxIn);
  const args = [script, pin, `${base}.in`, `${base}.out`, c.ctxIn ? `${base}.ctx` : '-', c.ctxOut ? `${base}.ctxout` : '-', String(c.flags),
    String(c.repeat ?? 1), String(c.dataSizeOut ?? 8192), String(c.ctxSizeOut)];
  try {
    const r = JSON.parse(execFileSync('python3', args, { encoding: 'utf8' }));
    if (r.failure || r.errno) return r;
    const dataOut = new Uint8Array(readFileSync(`${base}.out`));
    const ctxOut = c.ctxOut ? new Uint8Array(readFileSync(`${base}.ctxout`)) : undefined;
    return { errno: 0, retval: r.retval, dataOut, ctxOut };
  } finally {
    rmSync(pin, { force: true });
  }
}

/** Hex of bytes, '-' for none. */
export const hex = (b) => (b ? Buffer.from(b).toString('hex') : '-');

/** One line describing a kernelTestRun-shaped result. */
export const show = (r) => (r.reject ? `rejected: ${r.reject}` : r.failure ? `failed: ${r.failure}` : r.errno ? `errno ${r.errno}` : `retval ${r.retval} (${r.retval | 0}), ${r.dataOut.length} bytes out, ctx ${hex(r.ctxOut)}`);

/** Whether two results agree on errno, retval, data_out and ctx_out. */
export const same = (a, b) => a.errno === b.errno && a.retval === b.retval && hex(a.dataOut) === hex(b.dataOut) && hex(a.ctxOut) === hex(b.ctxOut);
