// The Node edge of topology files: reads one from disk and applies it, with the objects, captures
// and control-plane module it names resolved against its folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Runtime } from '../runtime/runtime.js';
import { loadTopology, TopologyError, type LoadedTopology, type MapContents } from './topology-load.js';

export type { LoadedTopology } from './topology-load.js';

/**
 * Reads the topology file at `path` and applies it to `runtime`, and loads its control-plane module
 * (`control`: a JS module whose default export gets the runtime and the objects and returns hooks);
 * `maps` are contents given apart from the file (the CLI's --map), filled after its own. Every
 * mistake is one TopologyError naming the file it is in.
 */
export async function loadTopologyFile(runtime: Runtime, path: string, maps: readonly MapContents[] = []): Promise<LoadedTopology> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TopologyError(path, '', `cannot read: ${(err as Error).message}`, { cause: err });
  }
  const folder = dirname(resolve(path));
  return loadTopology(runtime, text, {
    file: path,
    readObject: (file) => readFileSync(resolve(folder, file)),
    resolvePath: (file) => resolve(folder, file),
    importControl: (file) => import(pathToFileURL(file).href),
    maps,
  });
}
