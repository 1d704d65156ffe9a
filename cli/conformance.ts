// `ebpf-wasm conformance` and `ebpf-wasm plugin`: the bpf_conformance suite runner and the
// plugin protocol that lets the upstream C++ runner drive us (program hex on stdin, r0 in hex out).
import { readFileSync, statSync } from 'node:fs';
import { caughtNegative, decode, ENGINES, GROUPS, runConformance, runProgram, type EngineName, type Group, type IsaVersion } from '../index.js';
import { parseHexBytes } from './input.js';
import { UsageError } from './errors.js';

export interface ConformanceCliOptions {
  engine: string;
  cpuVersion: string;
  includeGroups?: string[];
  excludeGroups?: string[];
  json?: boolean;
}

export function parseEngine(name: string): EngineName {
  if (!(ENGINES as readonly string[]).includes(name)) {
    throw new UsageError(`--engine: '${name}' is not an engine (engines: ${ENGINES.join(', ')})`);
  }
  return name as EngineName;
}

function parseGroups(list: string[] | undefined, option: string): Group[] | undefined {
  if (!list) return undefined;
  for (const g of list) if (!(GROUPS as readonly string[]).includes(g)) throw new UsageError(`${option}: unknown group '${g}' (groups: ${GROUPS.join(', ')})`);
  return list as Group[];
}

export async function conformanceCommand(dirs: string[], options: ConformanceCliOptions): Promise<void> {
  const engine = parseEngine(options.engine);
  const version = /^v?([1-4])$/.exec(options.cpuVersion);
  if (!version) throw new UsageError(`--cpu-version: '${options.cpuVersion}' is not v1, v2, v3 or v4`);
  const include = parseGroups(options.includeGroups, '--include-groups');
  const exclude = parseGroups(options.excludeGroups, '--exclude-groups') ?? [];
  const groups = (include ?? GROUPS).filter((g) => !exclude.includes(g));
  for (const dir of dirs) {
    const kind = statSync(dir, { throwIfNoEntry: false });
    if (!kind) throw new UsageError(`${dir}: cannot read (no such file or directory)`);
    if (kind.isFile() && !dir.endsWith('.data')) throw new UsageError(`${dir}: not a .data test (bpf_conformance tests are .data files)`);
  }
  const report = await runConformance(dirs, { engine, cpuVersion: Number(version[1]) as IsaVersion, groups });
  if (report.results.length === 0) throw new UsageError(`${dirs.join(', ')}: no .data files found (folders are searched recursively)`);
  const { negatives } = report;
  const anyNegative = negatives.caught + negatives.missed + negatives.skipped > 0;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ engine, cpuVersion: `v${version[1]}`, ...report }, null, 2)}\n`);
  } else {
    for (const r of report.results) {
      if (!r.negative && r.outcome === 'fail') process.stdout.write(`FAIL ${r.file}: expected ${r.expected ?? '?'}, got ${r.actual ?? '?'}${r.reason ? ` (${r.reason})` : ''}\n`);
      if (r.negative && r.outcome !== 'skip' && !caughtNegative(r)) process.stdout.write(`MISSED negative case ${r.file}: it ran and gave ${r.actual ?? '?'}, as if it were valid\n`);
    }
    process.stdout.write(`\n${'group'.padEnd(10)} ${'pass'.padStart(5)} ${'fail'.padStart(5)} ${'skip'.padStart(5)}\n`);
    for (const [group, t] of Object.entries(report.byGroup)) {
      process.stdout.write(`${group.padEnd(10)} ${String(t.passed).padStart(5)} ${String(t.failed).padStart(5)} ${String(t.skipped).padStart(5)}\n`);
    }
    process.stdout.write(`\nconformance (${engine}, v${version[1]}): ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped\n`);
    if (report.unverified > 0) {
      process.stdout.write(`unverified: ${report.unverified} ran although the verifier refuses them, as Linux's does (the suite defines their ISA semantics: shift immediates out of range, callx)\n`);
    }
    if (anyNegative) {
      process.stdout.write(`negative cases: ${negatives.caught} caught, ${negatives.missed} missed, ${negatives.skipped} skipped (as upstream skips them)\n`);
    }
  }
  if (report.failed > 0 || negatives.missed > 0) process.exitCode = 1;
}

/** Reads all of standard input. */
function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

export async function pluginCommand(memhex: string | undefined, options: { engine: string; elf?: boolean }): Promise<void> {
  const engine = parseEngine(options.engine);
  if (options.elf) throw new UsageError('--elf: ELF input to the plugin is not supported (upstream uses it for its libbpf plugin only); run objects with ebpf-wasm test-run');
  const program = parseHexBytes(readStdin(), 'program on stdin');
  if (program.length === 0) throw new UsageError('program on stdin: empty');
  const mem = memhex === undefined ? new Uint8Array(0) : parseHexBytes(memhex, 'MEMHEX');
  const r0 = await runProgram(decode(program), mem, engine);
  process.stdout.write(`${r0.toString(16)}\n`);
}
