// Topology files (DESIGN.md "Replay"): the objects to load, the interfaces with the programs on their
// hooks and the captures they receive or send, the sockets to open and the cgroup_skb programs of
// their cgroup, and map contents as JSON decoded through the maps' BTF, where devmap, cpumap and
// prog_array values may name programs ("object/program") and interfaces (by name). Applying one to a runtime is all or nothing: a mistake is one TopologyError
// naming the file and the JSON path (`maps["lb/backends"][0].value.ifindex: no interface 'be9'`).
import { BpfError } from '../isa/errors.js';
import { MapType } from '../maps/constants.js';
import type { LoadedObject, Runtime } from '../runtime/runtime.js';
import type { Netdev, NetdevHook } from '../runtime/netdev.js';
import type { Program } from '../runtime/program.js';
import type { FrameEvent, PacketInfo } from './datapath.js';
import type { Socket } from '../runtime/socket.js';
import type { SocketOptions } from '../runtime/sockets.js';
import { CGROUP_HOOKS, type CgroupHook } from '../runtime/cgroup.js';
import { GlobalDataError } from '../runtime/errors.js';

/** A topology that cannot be applied: the file, the JSON path, and what is wrong. */
export class TopologyError extends BpfError {
  constructor(readonly file: string, readonly path: string, detail: string, options?: { cause?: unknown }) {
    super('topology', `${file}: ${path ? `${path}: ` : ''}${detail}`, options);
  }
}

/** A capture the topology names, with the interface it feeds. */
export interface TopologyCapture {
  /** As written in the file, resolved against the file's folder by the caller's `resolvePath`. */
  readonly path: string;
  /** The interface it feeds; undefined for a pcapng whose interface names pick the interfaces. */
  readonly interface: Netdev | undefined;
  /** 'in': frames arrive on the interface; 'out': its stack sends them. */
  readonly direction: 'in' | 'out';
  /** Where in the file it was named (for errors about the capture). */
  readonly jsonPath: string;
}

/** What applying a topology made. */
export interface AppliedTopology {
  readonly objects: ReadonlyMap<string, LoadedObject>;
  readonly interfaces: readonly Netdev[];
  readonly captures: readonly TopologyCapture[];
  /** The sockets it opened, in the order listed. */
  readonly sockets: readonly Socket[];
  /** `hop_limit`: times a frame may come back into the datapath (loopback, tc redirects to an ingress). */
  readonly hopLimit?: number;
  /** `control`: the path of a JS control-plane module (resolved), which the Node edge loads. */
  readonly control?: string;
}

/** What a topology's control-plane module gets: the runtime, what the topology made, and a way to hand frames back. */
export interface ControlPlaneContext {
  readonly runtime: Runtime;
  readonly objects: ReadonlyMap<string, LoadedObject>;
  /** Queues a frame to arrive on an interface (as if received again) once the current packet is done. */
  receive(iface: string, data: Uint8Array): void;
  /** Queues a frame for an interface's stack to send once the current packet is done. */
  send(iface: string, data: Uint8Array): void;
}

/**
 * What a control-plane module's default export returns: hooks the replay calls, as a user-space
 * agent beside the programs would react (insert flows, change an MTU). `frame` sees every frame
 * that leaves the datapath (valid during the call); `packet` runs after each record.
 */
export interface ControlPlaneHooks {
  readonly frame?: (event: FrameEvent, packet: PacketInfo) => void;
  readonly packet?: (packet: PacketInfo) => void;
}

/** How to reach the files a topology names. */
export interface TopologyEnvironment {
  /** The topology's name in errors (its path). */
  readonly file: string;
  /** The bytes of an object named in `objects` (a path relative to the topology). */
  readonly readObject: (path: string) => Uint8Array;
  /** What a capture path becomes (resolved against the topology's folder). */
  readonly resolvePath: (path: string) => string;
  /**
   * Map contents from outside the file (the CLI's `--map`), filled after the topology's own, so
   * their entries win; a mistake in one names its own file.
   */
  readonly maps?: readonly MapContents[];
}

/** Contents for one map, from a file of their own: `ref` is "object/map", `value` as in a topology's `maps`. */
export interface MapContents {
  readonly ref: string;
  readonly value: unknown;
  readonly file: string;
}

/** Whether a map name is a global data section's (`.data`, `.rodata`, `.bss` and their variants). */
export function isGlobalDataName(name: string): boolean {
  return /^\.(data|rodata|bss)(\..*)?$/.test(name);
}

const TOP_KEYS = ['objects', 'interfaces', 'maps', 'sockets', 'cgroup', 'pcap', 'hop_limit', 'metadata_keys', 'control'] as const;
const SOCKET_KEYS = ['protocol', 'local', 'remote', 'family', 'state', 'mark', 'priority', 'interface', 'uid'] as const;
const INTERFACE_KEYS = ['name', 'ifindex', 'mac', 'mtu', 'rx_queues', 'tx_queues', 'loopback', 'xdp', 'xdp_egress', 'tc_ingress', 'tc_egress', 'socket_filter', 'pcap', 'pcap_out'] as const;
const HOOKS: readonly NetdevHook[] = ['xdp', 'xdp_egress', 'tc_ingress', 'tc_egress', 'socket_filter'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** `maps["lb/backends"][0]`: a JSON path as JavaScript would write it. */
function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/** Parses a topology file's text; a syntax error names the line and column. */
export function parseTopology(text: string, file: string): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 names the position for some mistakes only; the message then quotes the text around it.
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position && !/\(line \d+ column \d+\)/.test(message)) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
    }
    throw new TopologyError(file, '', `not valid JSON${where}: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
  if (!isObject(doc)) throw new TopologyError(file, '', 'a topology is a JSON object with "objects", "interfaces" and optionally "maps"');
  return doc;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies a parsed topology to a runtime: loads objects, creates interfaces, attaches programs, fills maps. */
export async function applyTopology(runtime: Runtime, doc: JsonObject, env: TopologyEnvironment): Promise<AppliedTopology> {
  const fail = (path: string, detail: string, cause?: unknown): never => {
    throw new TopologyError(env.file, path, detail, cause === undefined ? undefined : { cause });
  };
  checkKeys(doc, TOP_KEYS, '', fail);
  const keys = doc.metadata_keys ?? {};
  if (!isObject(keys)) fail('metadata_keys', 'must map names to keys of the XDP metadata store, e.g. { "packet_id": 12 }');
  for (const [name, key] of Object.entries(keys as JsonObject)) {
    try {
      if (typeof key !== 'number') throw new TypeError(`must be a key from 0 to 63, not ${JSON.stringify(key)}`);
      runtime.metadataKeys.register(name, key);
    } catch (err) {
      fail(at('metadata_keys', name), (err as Error).message, err);
    }
  }

  // Objects.
  const objects = new Map<string, LoadedObject>();
  const interfaces: Netdev[] = [];
  const sockets: Socket[] = [];
  const attached: [CgroupHook, Program][] = [];
  const objectSpecs = doc.objects ?? {};
  if (!isObject(objectSpecs)) fail('objects', 'must map names to object files, e.g. { "lb": "lb.o" }');
  const mapSpecs = doc.maps ?? {};
  if (!isObject(mapSpecs)) fail('maps', 'must map "object/map" to an array of { "key": ..., "value": ... }');
  // Every source of map contents: the topology's, then those given apart, each failing in its own file.
  const contents: { ref: string; value: Json; path: string; fail: typeof fail }[] = [
    ...Object.entries(mapSpecs as JsonObject).map(([ref, value]) => ({ ref, value, path: at('maps', ref), fail })),
    ...(env.maps ?? []).map((m) => ({
      ref: m.ref, value: m.value as Json, path: m.ref,
      fail: (path: string, detail: string, cause?: unknown): never => { throw new TopologyError(m.file, path, detail, cause === undefined ? undefined : { cause }); },
    })),
  ];
  // Global variables are set before their object loads: .rodata is frozen once its programs are verified.
  const globals = new Map<string, Record<string, Record<string, unknown>>>();
  for (const c of contents) {
    const slash = c.ref.indexOf('/');
    if (slash <= 0 || !isGlobalDataName(c.ref.slice(slash + 1))) continue;
    if (!isObject(c.value)) c.fail(c.path, `a global data section takes an object of its variables, e.g. { "debug": 1 }`);
    const objectName = c.ref.slice(0, slash);
    if (!isObject(objectSpecs) || !(objectName in (objectSpecs as JsonObject))) c.fail(c.path, `a map is "object/map", and there is no object '${objectName}' (there are: ${Object.keys(objectSpecs as JsonObject).join(', ')})`);
    const sections = globals.get(objectName) ?? {};
    sections[c.ref.slice(slash + 1)] = { ...sections[c.ref.slice(slash + 1)], ...(c.value as JsonObject) };
    globals.set(objectName, sections);
  }
  try {
    for (const [name, file] of Object.entries(objectSpecs as JsonObject)) {
      const path = at('objects', name);
      if (name.includes('/') || !name) fail(path, 'an object name may not be empty or contain "/"');
      if (typeof file !== 'string') fail(path, 'must be the path of an object file');
      let bytes: Uint8Array;
      try {
        bytes = env.readObject(file as string);
      } catch (err) {
        fail(path, `cannot read ${file}: ${(err as Error).message}`, err);
      }
      try {
        const sections = globals.get(name);
        objects.set(name, await runtime.loadObject(bytes!, { fileName: file as string, ...(sections ? { globals: sections } : {}) }));
      } catch (err) {
        // Globals that cannot be set are the mistake of the map contents that gave them.
        const given = err instanceof GlobalDataError ? contents.filter((c) => c.ref === `${name}/${err.section}`).at(-1) : undefined;
        if (given) given.fail(given.path, (err as GlobalDataError).detail, err);
        if (err instanceof BpfError) fail(path, err.message, err);
        throw err;
      }
    }

    // Interfaces and their hooks.
    const programOf = (ref: Json | undefined, path: string): Program => {
      if (typeof ref !== 'string' || !ref.includes('/')) return fail(path, `a program is "object/program", not ${JSON.stringify(ref)}`);
      const slash = ref.indexOf('/');
      const [objectName, programName] = [ref.slice(0, slash), ref.slice(slash + 1)];
      const obj = objects.get(objectName);
      if (!obj) return fail(path, `no object '${objectName}' (there are: ${[...objects.keys()].join(', ') || 'none'})`);
      const program = obj.programs.get(programName);
      if (!program) return fail(path, `object '${objectName}' has no program '${programName}' (it has: ${[...obj.programs.keys()].join(', ')})`);
      return program;
    };
    const interfaceSpecs = doc.interfaces ?? [];
    if (!Array.isArray(interfaceSpecs) || interfaceSpecs.length === 0) fail('interfaces', 'must be a non-empty array of interfaces');
    const captures: TopologyCapture[] = [];
    (interfaceSpecs as Json[]).forEach((spec, i) => {
      const path = at('interfaces', i);
      if (!isObject(spec)) return fail(path, 'an interface is an object with at least a "name"');
      checkKeys(spec, INTERFACE_KEYS, path, fail);
      const field = <T extends Json>(key: string, type: string, check: (v: Json) => boolean): T | undefined => {
        const v = spec[key];
        if (v === undefined) return undefined;
        if (!check(v)) fail(at(path, key), `must be ${type}`);
        return v as T;
      };
      const integer = (v: Json) => typeof v === 'number' && Number.isInteger(v);
      const name = field<string>('name', 'a string', (v) => typeof v === 'string');
      if (name === undefined) return fail(path, 'needs a "name"');
      let dev: Netdev;
      try {
        const ifindex = field<number>('ifindex', 'an integer', integer);
        const mac = field<string>('mac', 'a MAC address string', (v) => typeof v === 'string');
        const mtu = field<number>('mtu', 'an integer', integer);
        const rxQueues = field<number>('rx_queues', 'an integer', integer);
        const txQueues = field<number>('tx_queues', 'an integer', integer);
        const loopback = field<boolean>('loopback', 'true or false', (v) => typeof v === 'boolean');
        dev = runtime.network.addInterface({
          name, ifindex: ifindex ?? i + 2,
          ...(mac !== undefined ? { mac } : {}), ...(mtu !== undefined ? { mtu } : {}),
          ...(rxQueues !== undefined ? { rxQueues } : {}), ...(txQueues !== undefined ? { txQueues } : {}),
          ...(loopback !== undefined ? { loopback } : {}),
        });
      } catch (err) {
        if (err instanceof TopologyError || !(err instanceof BpfError)) throw err;
        return fail(path, err.message, err);
      }
      interfaces.push(dev);
      for (const hook of HOOKS) {
        if (spec[hook] === undefined) continue;
        const program = programOf(spec[hook], at(path, hook));
        try {
          dev.attach(hook, program);
        } catch (err) {
          if (!(err instanceof BpfError)) throw err;
          fail(at(path, hook), err.message, err);
        }
      }
      for (const [key, direction] of [['pcap', 'in'], ['pcap_out', 'out']] as const) {
        const file = field<string>(key, 'the path of a capture', (v) => typeof v === 'string');
        if (file !== undefined) captures.push({ path: env.resolvePath(file), interface: dev, direction, jsonPath: at(path, key) });
      }
    });
    if (doc.pcap !== undefined) {
      if (typeof doc.pcap !== 'string') fail('pcap', 'must be the path of a pcapng capture whose interface names pick the interfaces');
      captures.push({ path: env.resolvePath(doc.pcap as string), interface: undefined, direction: 'in', jsonPath: 'pcap' });
    }

    // Sockets, then the cgroup programs that see their traffic.
    const socketSpecs = doc.sockets ?? [];
    if (!Array.isArray(socketSpecs)) fail('sockets', 'must be an array of sockets, e.g. [{ "protocol": "tcp", "local": "10.0.0.2:80", "remote": "10.0.0.1:40000" }]');
    (socketSpecs as Json[]).forEach((spec, i) => {
      const path = at('sockets', i);
      if (!isObject(spec)) return fail(path, 'a socket is an object with "protocol" and "local" (and "remote" when connected)');
      checkKeys(spec, SOCKET_KEYS, path, fail);
      try {
        sockets.push(runtime.sockets.open(spec as unknown as SocketOptions));
      } catch (err) {
        if (!(err instanceof BpfError)) throw err;
        fail(path, err.message, err);
      }
    });
    const cgroup = doc.cgroup ?? {};
    if (!isObject(cgroup)) fail('cgroup', 'must name the cgroup_skb programs per direction, e.g. { "egress": "obj/prog" }');
    checkKeys(cgroup as JsonObject, CGROUP_HOOKS, 'cgroup', fail);
    for (const hook of CGROUP_HOOKS) {
      const refs = (cgroup as JsonObject)[hook];
      if (refs === undefined) continue;
      const list = Array.isArray(refs) ? refs : [refs];
      list.forEach((ref, i) => {
        const path = Array.isArray(refs) ? at(at('cgroup', hook), i) : at('cgroup', hook);
        const program = programOf(ref, path);
        try {
          runtime.cgroup.attach(hook, program);
          attached.push([hook, program]);
        } catch (err) {
          if (!(err instanceof BpfError)) throw err;
          fail(path, err.message, err);
        }
      });
    }

    // Map contents (global data went in before load).
    for (const c of contents) {
      const slash = c.ref.indexOf('/');
      if (slash > 0 && isGlobalDataName(c.ref.slice(slash + 1))) continue;
      fillMap(runtime, objects, c.ref, c.value, c.path, programOf, c.fail);
    }
    const hopLimit = doc.hop_limit;
    if (hopLimit !== undefined && !(typeof hopLimit === 'number' && Number.isInteger(hopLimit) && hopLimit >= 0 && hopLimit <= 64)) fail('hop_limit', 'must be an integer from 0 to 64');
    if (doc.control !== undefined && typeof doc.control !== 'string') fail('control', 'must be the path of a JS module (its default export sets up the control plane)');
    return {
      objects, interfaces, captures, sockets,
      ...(hopLimit !== undefined ? { hopLimit: hopLimit as number } : {}),
      ...(doc.control !== undefined ? { control: env.resolvePath(doc.control as string) } : {}),
    };
  } catch (err) {
    // All or nothing: what this topology loaded and made leaves the runtime.
    for (const [hook, program] of attached) runtime.cgroup.detach(hook, program);
    for (const socket of sockets) runtime.sockets.close(socket);
    for (const obj of objects.values()) obj.close();
    for (const dev of interfaces) runtime.network.removeInterface(dev);
    throw err;
  }
}

function checkKeys(spec: JsonObject, known: readonly string[], path: string, fail: (path: string, detail: string) => never): void {
  for (const key of Object.keys(spec)) {
    if (!known.includes(key)) fail(at(path, key), `unknown key (known: ${known.join(', ')})`);
  }
}

/** Writes a map's entries, with program and interface references resolved for the kinds that hold them. */
function fillMap(
  runtime: Runtime, objects: ReadonlyMap<string, LoadedObject>, ref: string, entries: Json, path: string,
  programOf: (ref: Json | undefined, path: string) => Program, fail: (path: string, detail: string, cause?: unknown) => never,
): void {
  const slash = ref.indexOf('/');
  const obj = slash > 0 ? objects.get(ref.slice(0, slash)) : undefined;
  if (!obj) fail(path, `a map is "object/map", and there is no object '${ref.slice(0, Math.max(slash, 0))}' (there are: ${[...objects.keys()].join(', ')})`);
  const mapName = ref.slice(slash + 1);
  if (!obj!.maps.has(mapName)) fail(path, `object '${ref.slice(0, slash)}' has no map '${mapName}' (it has: ${[...obj!.maps.keys()].join(', ')})`);
  fillMapEntries(runtime, obj!, mapName, entries, path, programOf, fail);
}

/**
 * Writes JSON entries (`[{ "key": ..., "value": ... }]`, or `"values"` per CPU for per-CPU maps,
 * as `--maps` prints them) into a map of `obj`, with program and interface references resolved for
 * the kinds that hold them. Mistakes go to `fail` with the JSON path under `path`.
 */
export function fillMapEntries(
  runtime: Runtime, obj: LoadedObject, mapName: string, entries: unknown, path: string,
  programOf: (ref: Json | undefined, path: string) => Program, fail: (path: string, detail: string, cause?: unknown) => never,
): void {
  if (!Array.isArray(entries)) fail(path, 'must be an array of { "key": ..., "value": ... }');
  const typed = obj.typedMap(mapName);
  const type = typed.map.type;
  const interfaceOf = (v: Json, p: string): number => {
    if (typeof v === 'number') return v;
    if (typeof v !== 'string') return fail(p, `an interface is its name or ifindex, not ${JSON.stringify(v)}`);
    const dev = runtime.network.find(v);
    if (!dev) return fail(p, `no interface '${v}' (there are: ${runtime.network.list().map((d) => d.name).join(', ')})`);
    return dev.ifindex;
  };
  const programId = (v: Json, p: string): Json => (typeof v === 'string' ? programOf(v, p).id : v);
  const write = (p: string, update: () => void) => {
    try {
      update();
    } catch (err) {
      if (!(err instanceof BpfError)) throw err;
      // BTF errors name where in the key or value; map errors are about the whole entry.
      fail('', `${p}${/^(key|value)\b/.test(err.message) ? '.' : ': '}${err.message}`, err);
    }
  };
  (entries as Json[]).forEach((entry: Json, i: number) => {
    const p = at(path, i);
    if (!isObject(entry) || !('key' in entry) || !('value' in entry || (typed.perCpu && Array.isArray(entry.values)))) {
      return fail(p, `an entry is { "key": ..., "value": ... }${typed.perCpu ? ' (or "values": one per CPU)' : ''}`);
    }
    let key = entry.key as Json;
    let value = entry.value as Json;
    if (!('value' in entry)) {
      // Per CPU, as --maps prints them ({ "cpu": n, "value": v }) or as plain values in CPU order.
      const perCpu = (entry.values as Json[]).map((v) => (isObject(v) && 'value' in v ? v.value! : v));
      return write(p, () => typed.updatePerCpu(key, perCpu));
    }
    if (type === MapType.DEVMAP || type === MapType.DEVMAP_HASH) {
      if (type === MapType.DEVMAP_HASH && typeof key === 'string' && !/^\d/.test(key)) key = interfaceOf(key, at(p, 'key'));
      if (!isObject(value)) value = interfaceOf(value, at(p, 'value'));
      else value = resolveMembers(value, { ifindex: (v) => interfaceOf(v, at(at(p, 'value'), 'ifindex')), bpf_prog: (v) => (typeof v === 'string' ? { id: programId(v, at(at(p, 'value'), 'bpf_prog')) } : v) });
    } else if (type === MapType.CPUMAP) {
      if (isObject(value)) value = resolveMembers(value, { bpf_prog: (v) => (typeof v === 'string' ? { id: programId(v, at(at(p, 'value'), 'bpf_prog')) } : v) });
    } else if (type === MapType.PROG_ARRAY) {
      value = programId(value, at(p, 'value'));
    }
    write(p, () => typed.update(key, value));
  });
}

/** A copy of an object with the named members passed through their resolvers. */
function resolveMembers(value: JsonObject, resolvers: Record<string, (v: Json) => Json>): JsonObject {
  const out: JsonObject = { ...value };
  for (const [member, resolve] of Object.entries(resolvers)) if (out[member] !== undefined) out[member] = resolve(out[member]!);
  return out;
}
