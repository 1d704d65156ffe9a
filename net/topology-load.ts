// A topology's text applied to a runtime, with its control plane loaded and wired to the replay:
// what topology files do on the Node edge (net/topology-file.ts), with the host's own ways to read
// objects and import the control module (a browser fetches and imports by URL).
import type { Runtime } from '../runtime/runtime.js';
import { applyTopology, parseTopology, TopologyError, type AppliedTopology, type ControlPlaneContext, type ControlPlaneHooks, type TopologyEnvironment } from './topology.js';
import type { ReplayRecord } from './replay.js';

export { TopologyError, type MapContents } from './topology.js';

/** A topology applied, with its control plane's hooks when it names one. */
export interface LoadedTopology extends AppliedTopology {
  readonly hooks?: ControlPlaneHooks;
  /** Frames the control plane handed back, for the replay to take after each packet (ReplayOptions.outbox); only with a control plane. */
  readonly outbox?: ReplayRecord[];
}

/** How to reach what a topology names: its objects (as for applyTopology), and its control module. */
export interface TopologyLoadEnvironment extends TopologyEnvironment {
  /** Imports the control-plane module at a resolved path. */
  readonly importControl: (path: string) => Promise<unknown>;
}

/** Parses and applies a topology, and loads its control plane; every mistake is one TopologyError naming `env.file`. */
export async function loadTopology(runtime: Runtime, text: string, env: TopologyLoadEnvironment): Promise<LoadedTopology> {
  const applied = await applyTopology(runtime, parseTopology(text, env.file), env);
  if (!applied.control) return applied;
  const outbox: ReplayRecord[] = [];
  let hooks: ControlPlaneHooks | undefined;
  const context: ControlPlaneContext = {
    runtime,
    objects: applied.objects,
    receive: (iface, data) => outbox.push({ interface: runtime.network.get(iface), data: data.slice(), direction: 'in' }),
    send: (iface, data) => outbox.push({ interface: runtime.network.get(iface), data: data.slice(), direction: 'out' }),
  };
  try {
    const module = (await env.importControl(applied.control)) as { default?: unknown };
    if (typeof module.default !== 'function') throw new TypeError('its default export is not a function');
    hooks = (await module.default(context)) ?? undefined;
  } catch (err) {
    for (const obj of applied.objects.values()) obj.close();
    throw new TopologyError(env.file, 'control', `${applied.control}: ${(err as Error).message}`, { cause: err });
  }
  return { ...applied, outbox, ...(hooks ? { hooks } : {}) };
}
