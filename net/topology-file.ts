// The Node edge of topology files: reads one from disk and applies it, with the objects and
// captures it names resolved against its folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import { applyTopology, parseTopology, TopologyError, type AppliedTopology } from './topology.js';

/** Reads the topology file at `path` and applies it to `runtime`; every mistake is one TopologyError naming the file. */
export async function loadTopologyFile(runtime: Runtime, path: string): Promise<AppliedTopology> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TopologyError(path, '', `cannot read: ${(err as Error).message}`, { cause: err });
  }
  const folder = dirname(resolve(path));
  return applyTopology(runtime, parseTopology(text, path), {
    file: path,
    readObject: (file) => readFileSync(resolve(folder, file)),
    resolvePath: (file) => resolve(folder, file),
  });
}
