// The Node edge of the conformance runner: `.data` files found under folders and read from disk.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { BpfError } from '../isa/errors.js';
import { runConformanceTests, type ConformanceOptions, type ConformanceReport } from './runner.js';

/** A `.data` file to run, and whether it is a negative case (it lies under a folder named `negative`). */
export interface DataFile {
  readonly path: string;
  readonly negative: boolean;
}

/**
 * The `.data` files under a folder, recursively, sorted by path; or the file itself. A file given
 * by name must be a `.data` file.
 */
export function dataFiles(path: string): DataFile[] {
  const negative = (p: string) => p.split(/[\\/]/).includes('negative');
  if (statSync(path).isFile()) {
    if (!path.endsWith('.data')) throw new BpfError('usage', `${path}: not a .data test (bpf_conformance tests are .data files)`);
    return [{ path, negative: basename(dirname(resolve(path))) === 'negative' }];
  }
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const at = join(dir, entry.name);
      if (entry.isDirectory()) walk(at);
      else if (entry.name.endsWith('.data')) found.push(at);
    }
  };
  walk(path);
  const inNegative = basename(resolve(path)) === 'negative';
  return found.sort().map((p) => ({ path: p, negative: inNegative || negative(relative(path, dirname(p))) }));
}

/** Runs every `.data` file found in the given paths. */
export function runConformance(paths: readonly string[], options: ConformanceOptions): Promise<ConformanceReport> {
  const tests = paths.flatMap((path) => dataFiles(path)).map(({ path, negative }) => ({
    file: basename(path),
    text: () => readFileSync(path, 'utf8'),
    ...(negative ? { negative } : {}),
  }));
  return runConformanceTests(tests, options);
}
