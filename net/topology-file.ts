// The Node edge of topology files: reads one from disk and applies it, with the objects and
// captures it names resolved against its folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Runtime } from '../runtime/runtime.js';
import { applyTopology, parseTopology, TopologyError, type AppliedTopology, type ControlPlaneContext, type ControlPlaneHooks, type MapContents } from './topology.js';
import type { ReplayRecord } from './replay.js';

/** A topology applied, with its control plane's hooks when it names one. */
export interface LoadedTopology extends AppliedTopology {
  readonly hooks?: ControlPlaneHooks;
  /** Frames the control plane handed back, for the replay to take after each packet (ReplayOptions.outbox). */
  readonly outbox: ReplayRecord[];
}

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
  const applied = await applyTopology(runtime, parseTopology(text, path), {
    file: path,
    readObject: (file) => readFileSync(resolve(folder, file)),
    resolvePath: (file) => resolve(folder, file),
    maps,
  });
  const outbox: ReplayRecord[] = [];
  if (!applied.control) return { ...applied, outbox };
  let hooks: ControlPlaneHooks | undefined;
  const context: ControlPlaneContext = {
    runtime,
    objects: applied.objects,
    receive: (iface, data) => outbox.push({ interface: runtime.network.get(iface), data: data.slice(), direction: 'in' }),
    send: (iface, data) => outbox.push({ interface: runtime.network.get(iface), data: data.slice(), direction: 'out' }),
  };
  try {
    const module = (await import(pathToFileURL(applied.control).href)) as { default?: unknown };
    if (typeof module.default !== 'function') throw new TypeError('its default export is not a function');
    hooks = (await module.default(context)) ?? undefined;
  } catch (err) {
    for (const obj of applied.objects.values()) obj.close();
    throw new TopologyError(path, 'control', `${applied.control}: ${(err as Error).message}`, { cause: err });
  }
  return { ...applied, outbox, ...(hooks ? { hooks } : {}) };
}
