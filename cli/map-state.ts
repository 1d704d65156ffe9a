// `--map NAME=FILE.json`: state set up before a run, for test-run and replay alike. A file holds
// what `--maps` prints for that map: global data (`.rodata`, `.data`, `.bss`) as an object of its
// variables, set before the programs load (the verifier reads `.rodata`, which is then frozen);
// any other map as entries, `[{ "key": ..., "value": ... }]`, decoded through its BTF.
import { fillMapEntries, GlobalDataError, isGlobalDataName, type LoadedObject, type MapContents, type Program } from '../index.js';
import { readInput } from './input.js';
import { UsageError } from './errors.js';

/** One `--map`: the map's name as given, the file, and its parsed JSON. */
export interface MapOption {
  readonly name: string;
  readonly file: string;
  readonly value: unknown;
}

/** Parses `--map NAME=FILE` options and reads their files. */
export function parseMapOptions(list: readonly string[] | undefined): MapOption[] {
  return (list ?? []).map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--map: '${text}' is not NAME=FILE.json (e.g. --map .rodata=config.json)`);
    const name = text.slice(0, eq);
    const file = text.slice(eq + 1);
    const source = readInput(file).toString('utf8');
    try {
      return { name, file, value: JSON.parse(source) as unknown };
    } catch (err) {
      throw new UsageError(`${file}: not valid JSON: ${(err as Error).message.replace(/^JSON\.parse: /, '')}`);
    }
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The global variables the options set, by section, for LoadOptions.globals. */
export function globalsOf(options: readonly MapOption[]): Record<string, Record<string, unknown>> {
  const globals: Record<string, Record<string, unknown>> = {};
  for (const o of options) {
    if (!isGlobalDataName(o.name)) continue;
    if (!isObject(o.value)) throw new UsageError(`${o.file}: ${o.name} is global data: give an object of its variables, e.g. { "debug": 1 }`);
    globals[o.name] = { ...globals[o.name], ...o.value };
  }
  return globals;
}

/** An error setting the globals of `options` before load, blamed on the file that gave them. */
export function blameGlobals(options: readonly MapOption[], err: unknown): unknown {
  if (!(err instanceof GlobalDataError)) return err;
  const given = options.filter((o) => o.name === err.section).at(-1);
  return given ? new UsageError(`${given.file}: ${err.section}: ${err.detail}`) : err;
}

/** Fills the maps that are not global data (those went in before load) of a loaded object. */
export function fillMaps(obj: LoadedObject, options: readonly MapOption[]): void {
  for (const o of options) {
    if (isGlobalDataName(o.name)) continue;
    if (!obj.maps.has(o.name)) throw new UsageError(`--map ${o.name}: ${obj.file} has no map '${o.name}' (it has: ${[...obj.maps.keys()].join(', ') || 'none'})`);
    const fail = (path: string, detail: string): never => {
      throw new UsageError(`${o.file}: ${path ? `${path}: ` : ''}${detail}`);
    };
    // A program in a prog array, devmap or cpumap value is named as in the object.
    const programOf = (ref: unknown, path: string): Program => {
      if (typeof ref !== 'string') return fail(path, `a program is its name, not ${JSON.stringify(ref)}`);
      const program = obj.programs.get(ref);
      return program ?? fail(path, `${obj.file} has no program '${ref}' (it has: ${[...obj.programs.keys()].join(', ')})`);
    };
    fillMapEntries(obj.runtime, obj, o.name, o.value, '', programOf, fail);
  }
}

/** The options as a topology's extra map contents: each name must be "object/map". */
export function topologyMaps(options: readonly MapOption[]): MapContents[] {
  return options.map((o) => {
    if (!/^[^/]+\/./.test(o.name)) throw new UsageError(`--map ${o.name}: with a topology, a map is "object/map", as in the topology's "maps"`);
    return { ref: o.name, value: o.value, file: o.file };
  });
}
