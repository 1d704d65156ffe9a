// The playground: an object (a shipped example, or a file dropped in) and a capture replayed in the
// browser through the library's browser entry, with the verifier's verdicts and logs, the
// disassembly with source lines, the replay's verdicts per packet and per interface, the trace, the
// maps after the run, and the output captures to download. Built by scripts/bundle-playground.mjs,
// served by `ebpf-wasm playground`, and checked in Chromium by scripts/playground-e2e.mjs.
import {
  BpfError, captureReplayRecords, formatObjdump, hookFor, loadTopology, MemorySink, objectListing, outputCaptureName, PcapWriter, replay, Runtime, VerifierError,
  type CaptureWriter, type ControlPlaneHooks, type LoadedObject, type Netdev, type ReplayRecord, type ReplaySummary,
} from '../browser.js';
import { programStructure, type BpfFunction } from '../jit/cfg.js';
import { width } from '../isa/instruction.js';

/** A shipped example, as scripts/bundle-playground.mjs lists it in examples/index.json. */
interface Example {
  readonly name: string;
  /** Its topology's file name, or undefined for an object alone. */
  readonly topology?: string;
  /** Files of the example's folder: objects, captures, control modules. */
  readonly files: readonly string[];
}

/** What the end-to-end test reads back. */
interface PlaygroundState {
  done: boolean;
  error?: string;
  summary?: ReplaySummary;
  programs: { object: string; name: string; verified: boolean; error?: string; line?: string }[];
  outputs: Record<string, Uint8Array>;
  timings: Record<string, number>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SVG = 'http://www.w3.org/2000/svg';
/** Instruction slots on a rejected program's causal path, by the program's name: the disassembly highlights them. */
const causalPcs = new Map<string, Set<number>>();
const state: PlaygroundState = { done: false, programs: [], outputs: {}, timings: {} };
(window as unknown as { playground: PlaygroundState }).playground = state;

function element(tag: string, text?: string, attributes: Record<string, string> = {}): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  return e;
}

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[], attributes: (row: number) => Record<string, string> = () => ({})): HTMLTableElement {
  const t = element('table') as HTMLTableElement;
  const head = t.createTHead().insertRow();
  for (const h of headers) head.appendChild(element('th', h));
  const body = t.createTBody();
  rows.forEach((cells, i) => {
    const tr = body.insertRow();
    for (const [k, v] of Object.entries(attributes(i))) tr.setAttribute(k, v);
    for (const c of cells) tr.insertCell().textContent = String(c);
  });
  return t;
}

function status(text: string): void {
  $('status').textContent = text;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Verifier verdicts: every program's outcome, and for a rejection the error, its source line, the causal path and the log. */
function showVerdicts(objects: readonly LoadedObject[], failures: readonly { object: string; name: string; err: BpfError }[]): void {
  const out = $('verifier');
  out.replaceChildren(element('h2', 'Verifier'));
  const rows: (string | number)[][] = [];
  for (const obj of objects) {
    for (const p of obj.programs.values()) {
      rows.push([obj.file, p.name, p.type, 'accepted', p.verdict.insnsProcessed, p.verdict.ms.toFixed(1)]);
      state.programs.push({ object: obj.file, name: p.name, verified: p.verified });
    }
  }
  for (const f of failures) rows.push([f.object, f.name, '', 'rejected', '', '']);
  out.appendChild(table(['object', 'program', 'type', 'verdict', 'insns processed', 'ms'], rows));
  for (const f of failures) {
    const box = element('div', undefined, { class: 'rejection' });
    box.appendChild(element('h3', `${f.name}: rejected`));
    if (f.err instanceof VerifierError) {
      const r = f.err.report;
      const line = r.source ? `${r.source.file}:${r.source.line}` : undefined;
      box.appendChild(element('p', r.message, { class: 'error' }));
      if (line) box.appendChild(element('p', `at ${line}: ${r.source!.text.trim()}`, { class: 'source-line' }));
      if (r.suggestion) box.appendChild(element('p', r.suggestion, { class: 'suggestion' }));
      if (r.causalPath.length) box.appendChild(element('p', `causal path: pcs ${r.causalPath.join(' → ')}, then pc ${r.pc} (highlighted in the disassembly)`, { class: 'causal' }));
      causalPcs.set(f.name, new Set([...r.causalPath, r.pc]));
      box.appendChild(element('pre', f.err.log, { class: 'log' }));
      state.programs.push({ object: f.object, name: f.name, verified: false, error: r.message, ...(line ? { line } : {}) });
    } else {
      box.appendChild(element('p', f.err.message, { class: 'error' }));
      state.programs.push({ object: f.object, name: f.name, verified: false, error: f.err.message });
    }
    out.appendChild(box);
  }
}

function showListing(files: readonly { name: string; bytes: Uint8Array }[]): void {
  const out = $('disasm');
  out.replaceChildren(element('h2', 'Disassembly'));
  for (const f of files) {
    let text: string;
    try {
      text = objectListing(f.bytes, f.name, { source: true });
    } catch {
      text = objectListing(f.bytes, f.name);
    }
    // Lines of a function whose pc is on a rejected program's causal path are highlighted.
    const pre = element('pre');
    let path: Set<number> | undefined;
    for (const line of text.split('\n')) {
      const fn = /^[0-9a-f]+ <(.+)>:$/.exec(line);
      if (fn) path = causalPcs.get(fn[1]!);
      const pc = /^\s+(\d+):/.exec(line);
      const span = element('span', `${line}\n`);
      if (path && pc && path.has(Number(pc[1]))) span.className = 'causal-line';
      pre.appendChild(span);
    }
    out.appendChild(pre);
  }
}

/** The control-flow graph of each loaded program: its basic blocks in order, fall-through edges down, jumps as arcs on the right. */
function showCfg(objects: readonly LoadedObject[]): void {
  const out = $('cfg');
  out.replaceChildren(element('h2', 'Control-flow graphs'));
  for (const obj of objects) {
    for (const p of obj.programs.values()) {
      const last = p.insns[p.insns.length - 1];
      if (!last) continue;
      const structure = programStructure(p.insns, last.pc + width(last));
      out.appendChild(element('h3', `${obj.file}: ${p.name}`));
      out.appendChild(cfgPicture(structure.functions));
    }
  }
}

const LINE = 14;
const MAX_LINES = 6;

function cfgPicture(functions: readonly BpfFunction[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  const boxes = new Map<number, { y: number; height: number }>();
  let y = 10;
  const blocks = functions.flatMap((f) => f.blocks);
  for (const b of blocks) {
    const lines = Math.min(b.insns.length, MAX_LINES) + (b.insns.length > MAX_LINES ? 1 : 0);
    const height = lines * LINE + 8;
    boxes.set(b.start, { y, height });
    y += height + 24;
  }
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  const x = 10;
  const boxWidth = 420;
  let arc = 0;
  for (const b of blocks) {
    const box = boxes.get(b.start)!;
    add('rect', { x, y: box.y, width: boxWidth, height: box.height, class: 'block' });
    const shown = b.insns.slice(0, MAX_LINES).map((i) => formatObjdump(i));
    if (b.insns.length > MAX_LINES) shown.push(`… ${b.insns.length - MAX_LINES} more`);
    shown.forEach((t, i) => add('text', { x: x + 6, y: box.y + 4 + (i + 1) * LINE - 3, class: 'insn' }, t));
    if (b.next !== undefined && boxes.has(b.next)) {
      const to = boxes.get(b.next)!;
      add('path', { d: `M ${x + 40} ${box.y + box.height} L ${x + 40} ${to.y}`, class: 'edge fall' });
    }
    if (b.target !== undefined && boxes.has(b.target)) {
      const to = boxes.get(b.target)!;
      const reach = boxWidth + 20 + (arc++ % 8) * 12;
      add('path', { d: `M ${x + boxWidth} ${box.y + box.height / 2} C ${x + reach} ${box.y + box.height / 2}, ${x + reach} ${to.y + 8}, ${x + boxWidth} ${to.y + 8}`, class: 'edge jump' });
    }
  }
  svg.setAttribute('width', String(boxWidth + 140));
  svg.setAttribute('height', String(y));
  return svg;
}

const FATE_COLOURS: Record<string, string> = { pass: '#38a169', tx: '#3182ce', drop: '#e53e3e', aborted: '#805ad5', socket: '#d69e2e', none: '#a0aec0' };

/** Each packet's first fate over the capture's time, in 40 columns of stacked counts. */
function verdictChart(packets: readonly { seconds: number; fates: string }[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  const columns = 40;
  const times = packets.map((p) => p.seconds);
  const first = Math.min(...times);
  const span = Math.max(...times) - first || 1;
  const counts = Array.from({ length: columns }, () => new Map<string, number>());
  for (const p of packets) {
    const column = Math.min(columns - 1, Math.floor(((p.seconds - first) / span) * columns));
    const fate = p.fates.split(' ')[0] || 'none';
    counts[column]!.set(fate, (counts[column]!.get(fate) ?? 0) + 1);
  }
  const tallest = Math.max(1, ...counts.map((c) => [...c.values()].reduce((a, b) => a + b, 0)));
  const height = 120;
  const barWidth = 14;
  counts.forEach((c, i) => {
    let top = height;
    for (const [fate, n] of c) {
      const h = (n / tallest) * height;
      top -= h;
      const r = document.createElementNS(SVG, 'rect');
      for (const [k, v] of Object.entries({ x: i * (barWidth + 2), y: top, width: barWidth, height: h, fill: FATE_COLOURS[fate] ?? '#718096' })) r.setAttribute(k, String(v));
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${n} ${fate}`;
      r.appendChild(title);
      svg.appendChild(r);
    }
  });
  Object.keys(FATE_COLOURS).forEach((fate, i) => {
    const t = document.createElementNS(SVG, 'text');
    for (const [k, v] of Object.entries({ x: i * 70, y: height + 16, fill: FATE_COLOURS[fate]! })) t.setAttribute(k, String(v));
    t.textContent = fate;
    svg.appendChild(t);
  });
  svg.setAttribute('width', String(columns * (barWidth + 2)));
  svg.setAttribute('height', String(height + 22));
  return svg;
}

function showReplay(summary: ReplaySummary, packets: { number: number; iface: string; length: number; fates: string; seconds: number }[], trace: readonly string[]): void {
  const out = $('replay');
  out.replaceChildren(element('h2', `Replay: ${summary.packets} packets`));
  out.appendChild(table(['verdict', 'frames'], Object.entries(summary.verdicts), (i) => ({ 'data-verdict': Object.keys(summary.verdicts)[i]! })));
  if (packets.length) {
    out.appendChild(element('h3', 'Verdicts over the capture\'s time'));
    out.appendChild(verdictChart(packets));
  }
  out.appendChild(element('h3', 'Interfaces'));
  out.appendChild(table(['interface', 'rx', 'tx', 'pass', 'drop', 'aborted', 'redirected'],
    Object.entries(summary.interfaces).map(([name, s]) => [name, s.rx, s.tx, s.pass, s.drop, s.aborted, s.redirected])));
  if (summary.errors.length) out.appendChild(element('p', summary.errors.join('; '), { class: 'error' }));
  out.appendChild(element('h3', 'Packets'));
  const filter = element('select', undefined, { id: 'fate-filter' }) as HTMLSelectElement;
  for (const f of ['all', 'tx', 'pass', 'drop', 'aborted', 'socket']) filter.appendChild(element('option', f));
  out.appendChild(filter);
  const list = table(['#', 'interface', 'length', 'fates'], packets.map((p) => [p.number, p.iface, p.length, p.fates]));
  filter.onchange = () => {
    for (const [i, row] of [...list.tBodies[0]!.rows].entries()) row.hidden = filter.value !== 'all' && !packets[i]!.fates.includes(filter.value);
  };
  out.appendChild(list);
  out.appendChild(element('h3', 'Trace'));
  out.appendChild(element('pre', trace.join('\n') || '(no bpf_printk lines)'));
  out.appendChild(element('h3', 'Output captures'));
  for (const [name, bytes] of Object.entries(state.outputs)) {
    const a = element('a', `${name}.pcap (${bytes.length} bytes)`, { download: `${name}.pcap`, class: 'download' }) as HTMLAnchorElement;
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/vnd.tcpdump.pcap' }));
    out.appendChild(a);
  }
}

/** A map's entries as JSON text (bigints as decimal strings, which typed maps take back), at most `limit`. */
function mapRows(obj: LoadedObject, name: string, limit: number): [string, string][] | string {
  try {
    const text = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Array.from(x) : x));
    return [...obj.typedMap(name).entries()].slice(0, limit).map(([key, value]) => [text(key), text(value)]);
  } catch (err) {
    return (err as Error).message;
  }
}

const EDITABLE_ROWS = 32;

/** A heading and a part for each map of the objects (global data sections left out), in the section `id`. */
function showEachMap(id: string, title: string, objects: readonly LoadedObject[], limit: number, part: (obj: LoadedObject, name: string, rows: [string, string][] | string) => HTMLElement): void {
  const out = $(id);
  out.replaceChildren(element('h2', title));
  for (const obj of objects) {
    for (const name of obj.maps.keys()) {
      if (name.startsWith('.')) continue;
      out.appendChild(element('h3', `${obj.file}: ${name}`));
      out.appendChild(part(obj, name, mapRows(obj, name, limit)));
    }
  }
}

/** The maps before the run, typed through BTF, as tables whose keys and values can be edited, cleared (deleted) or added. */
function showMapEditor(objects: readonly LoadedObject[]): void {
  showEachMap('maps', 'Maps before the run (edit, clear a value to delete, fill the last row to add)', objects, EDITABLE_ROWS, (obj, name, rows) => {
    if (typeof rows === 'string') return element('p', `not editable here: ${rows}`);
    const t = table(['key', 'value'], []);
    for (const [key, value] of [...rows, ['', ''] as [string, string]]) {
      const tr = t.tBodies[0]!.insertRow();
      tr.className = 'map-row';
      Object.assign(tr.dataset, { object: obj.file, map: name, key, value });
      for (const [field, text] of [['key', key], ['value', value]]) {
        tr.insertCell().appendChild(element('input', undefined, { class: `map-${field}`, value: text!, size: '48' }));
      }
    }
    return t;
  });
}

/**
 * Carries the editor's changes into the maps: a changed value is updated, a cleared one deleted, a
 * new row added. Every row is parsed first, so text that is not JSON changes nothing.
 */
function applyMapEdits(objects: readonly LoadedObject[]): void {
  const changes: (() => void)[] = [];
  for (const tr of document.querySelectorAll<HTMLTableRowElement>('#maps tr.map-row')) {
    const { object, map, key: oldKey, value: oldValue } = tr.dataset;
    const key = tr.querySelector<HTMLInputElement>('.map-key')!.value.trim();
    const value = tr.querySelector<HTMLInputElement>('.map-value')!.value.trim();
    if (key === oldKey && value === oldValue) continue;
    const typed = objects.find((o) => o.file === object)!.typedMap(map!);
    const parse = (text: string, what: string) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`${map}: the ${what} ${text} is not JSON`);
      }
    };
    const removed = oldKey && (value === '' || key !== oldKey) ? parse(oldKey, 'key') : undefined;
    const added = key && value ? [parse(key, 'key'), parse(value, 'value')] : undefined;
    changes.push(() => {
      if (removed !== undefined) typed.delete(removed);
      if (added) typed.update(added[0], added[1]);
    });
  }
  for (const change of changes) change();
}

/** The maps after the run, typed through BTF, as tables. */
function showMaps(objects: readonly LoadedObject[]): void {
  showEachMap('maps-after', 'Maps after the run', objects, 64, (_, name, rows) =>
    typeof rows === 'string' ? element('p', rows) : table(['key', 'value'], rows, (i) => ({ 'data-map': name, 'data-key': rows[i]![0] })));
}

/** Packets typed as hex, one per line (spaces and colons ignored), as replay records a second apart. */
function typedPackets(text: string, dev: Netdev, direction: 'in' | 'out'): ReplayRecord[] {
  return text.split('\n').map((line) => line.replace(/[\s:]/g, '')).filter(Boolean).map((hex, i) => {
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error(`packet ${i + 1}: '${hex.slice(0, 16)}…' is not hex bytes`);
    const data = Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));
    return { interface: dev, data, seconds: i, nanoseconds: 0, direction, number: i + 1 };
  });
}

/** What is loaded for a selection (example or files, and engine), until a run consumes it. */
interface Prepared {
  readonly selection: string;
  readonly runtime: Runtime;
  readonly objects: readonly LoadedObject[];
  readonly source: Iterable<ReplayRecord> | undefined;
  readonly outbox: ReplayRecord[] | undefined;
  readonly hooks: ControlPlaneHooks | undefined;
  readonly trace: string[];
}

let prepared: Prepared | undefined;

/** What the inputs select now: a run reuses a load of the same selection (with the maps as edited). */
function selection(): string {
  const file = (id: string) => {
    const f = $<HTMLInputElement>(id).files?.[0];
    return f ? [f.name, f.size, f.lastModified] : null;
  };
  return JSON.stringify([$<HTMLSelectElement>('example').value, file('object'), file('capture'), $<HTMLTextAreaElement>('packets').value, $<HTMLSelectElement>('engine').value]);
}

/** Loads (and verifies) what the inputs select, and shows the verdicts, the disassembly, the CFGs and the maps to edit. */
async function load(): Promise<Prepared> {
  Object.assign(state, { done: false, programs: [], outputs: {}, timings: {}, error: undefined, summary: undefined });
  for (const id of ['verifier', 'replay', 'maps', 'maps-after', 'cfg', 'disasm']) $(id).replaceChildren();
  const engine = $<HTMLSelectElement>('engine').value as 'interp' | 'jit';
  const runtime = new Runtime({ engine });
  const trace: string[] = [];
  runtime.listenToTrace((line) => trace.push(line.replace(/\n$/, '')));
  const objects: LoadedObject[] = [];
  const failures: { object: string; name: string; err: BpfError }[] = [];
  const listings: { name: string; bytes: Uint8Array }[] = [];
  let source: Iterable<ReplayRecord> | undefined;
  let outbox: ReplayRecord[] | undefined;
  let hooks: ControlPlaneHooks | undefined;
  const started = performance.now();
  status(engine === 'jit' ? 'loading binaryen and compiling to WebAssembly…' : 'loading and verifying…');
  const exampleName = $<HTMLSelectElement>('example').value;
  const objectFile = $<HTMLInputElement>('object').files?.[0];
  const captureFile = $<HTMLInputElement>('capture').files?.[0];
  if (objectFile) {
    const bytes = new Uint8Array(await objectFile.arrayBuffer());
    listings.push({ name: objectFile.name, bytes });
    const obj = await runtime.loadObject(bytes, { fileName: objectFile.name });
    objects.push(obj);
    for (const [name, err] of obj.failures) failures.push({ object: obj.file, name, err });
    const program = [...obj.programs.values()].find((p) => hookFor(p));
    const typed = $<HTMLTextAreaElement>('packets').value.trim();
    if (program && (captureFile || typed)) {
      const place = hookFor(program)!;
      const eth0: Netdev = runtime.network.addInterface({ name: 'eth0' });
      eth0.attach(place.hook, program);
      source = captureFile
        ? captureReplayRecords(new Uint8Array(await captureFile.arrayBuffer()), runtime.network, { path: captureFile.name, interface: eth0, direction: place.direction })
        : typedPackets(typed, eth0, place.direction);
    }
  } else {
    const examples = (await (await fetch('examples/index.json')).json()) as Example[];
    const example = examples.find((e) => e.name === exampleName)!;
    const base = `examples/${example.name}/`;
    const files = new Map<string, Uint8Array>();
    for (const f of example.files) files.set(f, await fetchBytes(base + f));
    for (const [name, bytes] of files) if (name.endsWith('.o')) listings.push({ name, bytes });
    if (example.topology) {
      const text = new TextDecoder().decode(files.get(example.topology));
      const loaded = await loadTopology(runtime, text, {
        file: example.topology,
        readObject: (path) => files.get(path) ?? (() => { throw new Error(`${path}: not in the example`); })(),
        resolvePath: (path) => path,
        importControl: (path) => import(/* @vite-ignore */ new URL(base + path, document.baseURI).href),
      });
      for (const obj of loaded.objects.values()) {
        objects.push(obj);
        for (const [name, err] of obj.failures) failures.push({ object: obj.file, name, err });
      }
      outbox = loaded.outbox;
      hooks = loaded.hooks;
      const capture = loaded.captures[0];
      if (capture) source = captureReplayRecords(files.get(capture.path)!, runtime.network, { path: capture.path, interface: capture.interface, direction: capture.direction });
    } else {
      for (const [name, bytes] of files) {
        if (!name.endsWith('.o')) continue;
        const obj = await runtime.loadObject(bytes, { fileName: name });
        objects.push(obj);
        for (const [program, err] of obj.failures) failures.push({ object: name, name: program, err });
      }
    }
  }
  state.timings.loadMs = performance.now() - started;
  causalPcs.clear();
  showVerdicts(objects, failures);
  showListing(listings);
  showCfg(objects);
  showMapEditor(objects);
  status(`${engine}: loaded and verified in ${state.timings.loadMs.toFixed(0)} ms`);
  prepared = { selection: selection(), runtime, objects, source, outbox, hooks, trace };
  return prepared;
}

/** Runs what the inputs select: the load made for it (or a new one), the maps as edited, the replay. */
async function run(): Promise<void> {
  const p = prepared?.selection === selection() ? prepared : await load();
  // A run changes the maps: the next one loads afresh.
  prepared = undefined;
  Object.assign(state, { done: false, outputs: {}, error: undefined, summary: undefined });
  applyMapEdits(p.objects);
  const { runtime, source, outbox, hooks, trace } = p;
  const engine = runtime.engine;
  if (source) {
    status('replaying…');
    const writers = new Map<string, { sink: MemorySink; writer: CaptureWriter }>();
    const packets: { number: number; iface: string; length: number; fates: string; seconds: number }[] = [];
    let time = 0;
    const t0 = performance.now();
    const summary = await replay(runtime, source, {
      ...(outbox ? { outbox } : {}),
      afterPacket: (info) => {
        time = info.seconds + info.nanoseconds / 1e9;
        hooks?.packet?.(info);
      },
      onFrame: (e, packet) => {
        hooks?.frame?.(e, packet);
        const name = outputCaptureName(e.fate, e.dev);
        let w = writers.get(name);
        if (!w) {
          const sink = new MemorySink();
          writers.set(name, (w = { sink, writer: new PcapWriter(sink, { precision: 'nanoseconds' }) }));
        }
        w.writer.write({ data: e.bytes, seconds: packet.seconds, nanoseconds: packet.nanoseconds });
      },
      onPacket: (r) => void packets.push({ number: r.number, iface: r.interface, length: r.length, fates: r.fates.map((f) => `${f.fate} ${f.interface}`).join(', '), seconds: time }),
    });
    state.timings.replayMs = performance.now() - t0;
    for (const [name, w] of writers) {
      w.writer.close();
      state.outputs[name] = w.sink.bytes();
    }
    state.summary = summary;
    showReplay(summary, packets, trace);
  }
  showMaps(p.objects);
  const stopped = state.summary?.errors[0];
  status(`${engine}: loaded and verified in ${state.timings.loadMs!.toFixed(0)} ms${state.timings.replayMs !== undefined ? `, replayed in ${state.timings.replayMs.toFixed(0)} ms` : ''}${stopped ? `; the replay stopped: ${stopped}` : ''}`);
}

async function main(): Promise<void> {
  const examples = (await (await fetch('examples/index.json')).json()) as Example[];
  const select = $<HTMLSelectElement>('example');
  for (const e of examples) select.appendChild(element('option', e.name, { value: e.name }));
  const act = (what: () => Promise<unknown>) => () => {
    state.done = false;
    what().catch((err: unknown) => {
      state.error = (err as Error).message;
      status(`error: ${state.error}`);
    }).finally(() => {
      state.done = true;
    });
  };
  $('load').onclick = act(load);
  $('run').onclick = act(run);
  status('ready');
}

void main();
