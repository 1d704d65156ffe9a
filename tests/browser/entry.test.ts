// The browser entry (dist/browser.js, the package's "browser" export) runs without Node: its import
// graph holds no Node module, and bundled for browsers it loads an object from bytes, verifies it
// and test-runs it in a context with none of Node's globals (no process, Buffer or require).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../support/suite.js';
import { buildPacket, Runtime } from '../../index.js';

const DIST = join(PROJECT_ROOT, 'dist');

/** Every module the entry reaches through static and dynamic imports: project files, and the bare specifiers they name. */
function importGraph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const pending = [entry];
  // Import and export declarations start lines in tsc's output; dynamic imports take a literal.
  const specifier = /^\s*(?:(?:import|export)\b[^'"\n]*?\bfrom|import)\s*['"]([^'"\n]+)['"]|\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/gm;
  while (pending.length) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, declared, dynamic] of readFileSync(file, 'utf8').matchAll(specifier)) {
      const spec = (declared ?? dynamic)!;
      if (spec.startsWith('.')) pending.push(resolve(dirname(file), spec));
      else bare.add(spec);
    }
  }
  return { files, bare };
}

describe('the browser entry', () => {
  test('reaches no Node module: binaryen is the only package it imports', () => {
    const { files, bare } = importGraph(join(DIST, 'browser.js'));
    expect(files.size).toBeGreaterThan(150);
    expect([...bare]).toEqual(['binaryen']);
    // The Node entry does reach Node's modules (the check can fail).
    expect([...importGraph(join(DIST, 'index.js')).bare].filter((s) => s.startsWith('node:')).length).toBeGreaterThan(0);
  });

  test('bundled for browsers, it loads, verifies and test-runs an object where Node\'s globals are absent', async () => {
    const bundle = await build({
      entryPoints: [join(DIST, 'browser.js')], bundle: true, platform: 'browser', format: 'iife', globalName: 'ebpfWasm',
      external: ['binaryen'], write: false, logLevel: 'silent',
    });
    const objectBytes = [...readFileSync(join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o'))];
    const packets = [buildPacket({ proto: 'tcp', dstPort: 80 }), buildPacket({ dstPort: 53 })].map((p) => [...p]);
    const context = vm.createContext({ performance, TextEncoder, TextDecoder, console, objectBytes, packets });
    vm.runInContext(bundle.outputFiles[0]!.text, context);
    expect(vm.runInContext('[typeof process, typeof Buffer, typeof require]', context)).toEqual(['undefined', 'undefined', 'undefined']);
    const inBrowser = await vm.runInContext(`(async () => {
      const runtime = new ebpfWasm.Runtime({ engine: 'interp' });
      const obj = await runtime.loadObject(Uint8Array.from(objectBytes), { fileName: 'xdp_firewall.o' });
      const program = obj.program('xdp_firewall');
      return { verified: program.verified, retvals: packets.map((p) => program.testRun({ dataIn: Uint8Array.from(p) }).retval) };
    })()`, context) as { verified: boolean; retvals: number[] };
    const obj = await new Runtime({ engine: 'interp' }).loadObject(join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o'));
    const inNode = packets.map((p) => obj.program('xdp_firewall').testRun({ dataIn: Uint8Array.from(p) }).retval);
    expect(inBrowser).toEqual({ verified: true, retvals: inNode });
    // A path means nothing there: the error says to pass the bytes.
    await expect(vm.runInContext(`new ebpfWasm.Runtime().loadObject('x.o')`, context)).rejects.toThrow(/give the bytes instead/);
  });
});
