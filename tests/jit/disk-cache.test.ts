// The JIT's on-disk module cache: entries survive a process (here: the in-memory cache cleared),
// are checked whole before use, and a bad one is removed and compiled afresh; off by default.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { clearJitCache, compileCached } from '../../jit/executor.js';
import { decodeEntry, encodeEntry, jitDiskCacheDir, setJitDiskCache } from '../../jit/disk-cache.js';
import { PROJECT_ROOT } from '../support/suite.js';

const program = () => assemble('mov %r0, 7\nexit');
const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wasmc'));

describe('the JIT\'s disk cache', () => {
  afterEach(() => {
    setJitDiskCache(undefined);
    clearJitCache();
  });

  test('is off unless asked for', async () => {
    expect(jitDiskCacheDir()).toBeUndefined();
  });

  test('a module compiled once is read back by the next process, without compiling', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-cache-'));
    setJitDiskCache(dir);
    clearJitCache();
    const first = await compileCached(program());
    expect(first.compileMs).toBeGreaterThan(0);
    expect(entries(dir)).toHaveLength(1);
    clearJitCache(); // as a new process would start
    const second = await compileCached(program());
    expect(second.compileMs).toBe(0);
    expect(second.helperIds).toEqual(first.helperIds);
    // Other options are another entry.
    await compileCached(program(), { optimize: 0 });
    expect(entries(dir)).toHaveLength(2);
  });

  test('a truncated or altered entry is ignored, removed and compiled afresh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-cache-'));
    setJitDiskCache(dir);
    clearJitCache();
    await compileCached(program());
    const [file] = entries(dir);
    const bytes = readFileSync(join(dir, file!));
    for (const bad of [bytes.subarray(0, bytes.length - 3), Buffer.concat([bytes.subarray(0, 50), Buffer.from([bytes[50]! ^ 1]), bytes.subarray(51)])]) {
      writeFileSync(join(dir, file!), bad);
      clearJitCache();
      const again = await compileCached(program());
      expect(again.compileMs).toBeGreaterThan(0);
      expect(readFileSync(join(dir, file!))).toEqual(bytes);
    }
  });

  test('entries decode only when whole and of this format', () => {
    const entry = { binary: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), helperIds: [1, 5] };
    const bytes = encodeEntry(entry);
    expect(decodeEntry(bytes)).toEqual(entry);
    expect(decodeEntry(bytes.subarray(0, 20))).toBeUndefined();
    const otherFormat = bytes.slice();
    otherFormat[4] = 9;
    expect(decodeEntry(otherFormat)).toBeUndefined();
    // Not WebAssembly, though the checksum is right.
    expect(decodeEntry(encodeEntry({ binary: new Uint8Array([1, 2, 3]), helperIds: [] }))).toBeUndefined();
  });

  test('the CLI keeps its modules there, and EBPF_WASM_CACHE_DIR=off keeps nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-cache-'));
    const run = (env: string) => spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'ebpf-wasm.mjs'), 'test-run', 'examples/xdp_ttl.o', '--data-in', 'examples/udp.bin', '--engine', 'jit'], {
      cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, EBPF_WASM_CACHE_DIR: env },
    });
    expect(run('off').status).toBe(0);
    expect(entries(dir)).toHaveLength(0);
    for (let i = 0; i < 2; i++) {
      const r = run(dir);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^trace: proto 17: ttl now 63, forward\nReturn value: 3,/);
    }
    expect(entries(dir)).toHaveLength(1);
  });
});
