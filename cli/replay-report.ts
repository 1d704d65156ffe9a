// How `ebpf-wasm replay` shows its result: the summary as tables (verdicts, interfaces, redirects,
// programs, causes of drops and aborts, trace lines, timing, files), one line per packet with
// --verbose.
import { relative } from 'node:path';
import type { Netdev, PacketReport, ReplaySummary } from '../index.js';

/** What the summary mentions beyond the replay's own figures. */
export interface SummaryContext {
  readonly engine: string;
  readonly verified: boolean;
  readonly captures: readonly string[];
  readonly files: readonly { path: string; frames: number }[];
  readonly interfaces: readonly Netdev[];
}

const n = (v: number) => v.toLocaleString('en-US');

/** Columns under a header: numbers right-aligned, text left-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d,.]+$/.test(r[i]!)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

/** Prints the summary of a replay. */
export function printSummary(out: NodeJS.WritableStream, s: ReplaySummary, ctx: SummaryContext): void {
  const w = (text = '') => out.write(`${text}\n`);
  w(`replayed ${n(s.packets)} packet${s.packets === 1 ? '' : 's'} from ${ctx.captures.map(shortPath).join(', ')} on the ${ctx.engine === 'jit' ? 'JIT' : 'interpreter'}${ctx.verified ? '' : ' (programs not verified)'}`);
  w();
  const v = s.verdicts;
  if (ctx.interfaces.some((d) => d.program('xdp'))) {
    w(`ingress XDP verdicts: pass ${n(v.pass)}, drop ${n(v.drop)}, tx ${n(v.tx)}, redirect ${n(v.redirect)}, aborted ${n(v.aborted)}`);
    w();
  }
  const rows = Object.entries(s.interfaces).map(([name, i]) => [name, String(i.ifindex), n(i.rx), n(i.tx), n(i.pass), n(i.drop), n(i.aborted), n(i.redirected)]);
  w(table(['interface', 'ifindex', 'rx', 'tx', 'pass', 'drop', 'aborted', 'redirected'], rows));
  if (s.hooks.length) {
    w();
    w('programs');
    w(table(['interface', 'hook', 'program', 'verdicts'], s.hooks.map((h) => [h.interface, h.hook, h.program, Object.entries(h.verdicts).map(([k, c]) => `${k} ${n(c)}`).join(', ')])));
  }
  if (s.redirects.length) {
    w();
    w('redirects');
    w(table(['from', 'via', 'key', 'to', 'frames'], s.redirects.map((r) => [r.from, r.via, String(r.key), r.to, n(r.frames)])));
  }
  for (const [title, causes] of [['dropped', s.drops], ['aborted', s.aborted]] as const) {
    if (!causes.length) continue;
    w();
    w(title);
    w(table(['interface', 'hook', 'program', 'cause', 'frames'], causes.map((c) => [c.interface, c.hook, c.program ?? '-', c.cause, n(c.frames)])));
  }
  if (s.trace.length) {
    w();
    w(`trace (bpf_printk, ${n(s.trace_lines)} line${s.trace_lines === 1 ? '' : 's'}; repeats folded)`);
    for (const t of s.trace) w(`  ${t.line}${t.count > 1 ? ` (x${n(t.count)})` : ''}`);
    const shown = s.trace.reduce((a, t) => a + t.count, 0);
    if (shown < s.trace_lines) w(`  ... ${n(s.trace_lines - shown)} more`);
  }
  w();
  w(`${n(s.ns_per_packet)} ns per packet in the datapath, ${n(s.packets_per_second)} packets per second overall (${n(Math.round(s.duration_ms))} ms)`);
  if (s.lane_packets) w(`${n(s.lane_packets)} of ${n(s.packets)} packets went through the WebAssembly lane`);
  if (ctx.files.length) {
    w();
    w(`wrote ${ctx.files.length} captures to ${shortPath(commonFolder(ctx.files.map((f) => f.path)))}:`);
    w(`  ${ctx.files.map((f) => `${f.path.split('/').pop()} (${n(f.frames)})`).join(', ')}`);
  }
}

/** Maps as the summary shows them: one line per entry, in bpftool's JSON shape. */
export function printMaps(out: NodeJS.WritableStream, maps: Record<string, unknown>): void {
  const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
  out.write('\nmaps\n');
  for (const [name, entries] of Object.entries(maps)) {
    if (!Array.isArray(entries)) {
      out.write(`  ${name}: ${json(entries)}\n`);
      continue;
    }
    out.write(`  ${name} (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'})\n`);
    for (const e of entries) out.write(`    ${json(e)}\n`);
  }
}

/** The open sockets by cookie: what socket storage maps are keyed by in a dump. */
export function printSockets(out: NodeJS.WritableStream, sockets: readonly { cookie: number; socket: string; state: number }[]): void {
  if (sockets.length === 0) return;
  out.write('\nsockets (socket storage is keyed by cookie)\n');
  for (const s of sockets) out.write(`  ${String(s.cookie).padStart(6)}  ${s.socket}  state ${s.state}\n`);
}

/** A path relative to the working folder when it lies inside it, as given otherwise. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function commonFolder(paths: readonly string[]): string {
  return paths[0]?.slice(0, paths[0].lastIndexOf('/')) || '.';
}

/** One line per replayed packet: its number, interface, and where each frame it gave ended. */
export function packetLine(r: PacketReport): string {
  const fates = r.fates.map((f) => `${f.fate} ${f.interface}${f.cause ? ` (${f.program ? `${f.program}: ` : ''}${f.cause})` : ''}`).join(', ') || 'consumed';
  const trace = r.trace.map((t) => `\n      trace: ${t}`).join('');
  return `#${r.number} ${r.direction === 'out' ? 'sent on' : 'on'} ${r.interface} (${r.length} bytes): ${fates}${trace}`;
}

