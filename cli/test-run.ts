// `ebpf-wasm test-run`: BPF_PROG_TEST_RUN on a program of an ELF object, as `bpftool prog run`
// does it: data and context in from files, retval and average duration out, data_out and ctx_out
// written to files ('-' for a hex dump on stdout).
import { writeFileSync } from 'node:fs';
import { DifferentialObject, Runtime, type LoadedObject, type TestRunOptions, type TestRunResult } from '../index.js';
import { parseEngine } from './conformance.js';
import { readInput } from './input.js';
import { aboutFile, UsageError } from './errors.js';
import { dumpMaps } from './maps.js';

export interface TestRunCliOptions {
  program?: string;
  dataIn?: string;
  ctxIn?: string;
  dataOut?: string;
  ctxOut?: string;
  dataSizeOut?: string;
  ctxSizeOut?: string;
  repeat?: string;
  engine?: string;
  cpu?: string;
  cpus?: string;
  json?: boolean;
  maps?: boolean;
}

function count(text: string | undefined, what: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > 0xffffffff) throw new UsageError(`${what}: '${text}' is not an integer of at least ${min}`);
  return n;
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push([...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

/** Picks the program: the one named, or the only one (a program that did not load counts, and says why). */
function programName(obj: LoadedObject, name: string | undefined): string {
  const pick = (n: string) => {
    try {
      return obj.program(n).name;
    } catch (err) {
      throw aboutFile(obj.file, err);
    }
  };
  if (name !== undefined) return pick(name);
  const all = [...obj.programs.keys(), ...obj.failures.keys()];
  if (all.length === 1) return pick(all[0]!);
  throw new UsageError(`${obj.file}: has ${all.length} programs; choose one with --program (${all.join(', ')})`);
}

export async function testRunCommand(file: string, options: TestRunCliOptions): Promise<void> {
  const engine = parseEngine(options.engine ?? 'interp');
  if (options.dataIn === undefined) throw new UsageError('--data-in: required (a file with the packet)');
  readInput(file);
  const dataIn = new Uint8Array(readInput(options.dataIn));
  const ctxIn = options.ctxIn !== undefined ? new Uint8Array(readInput(options.ctxIn)) : undefined;
  const cpus = count(options.cpus, '--cpus', 1) ?? 1;
  const runOptions: TestRunOptions = {
    dataIn,
    ...(ctxIn ? { ctxIn, ctxOut: options.ctxOut !== undefined } : {}),
    ...(options.dataSizeOut !== undefined ? { dataSizeOut: count(options.dataSizeOut, '--data-size-out', 1)! } : {}),
    ...(options.ctxSizeOut !== undefined ? { ctxSizeOut: count(options.ctxSizeOut, '--ctx-size-out', 0)! } : {}),
    repeat: count(options.repeat, '--repeat', 0) ?? 1,
    cpu: count(options.cpu, '--cpu', 0) ?? 0,
  };
  if (options.ctxOut !== undefined && !ctxIn) throw new UsageError('--ctx-out: needs --ctx-in (the kernel refuses ctx_out without ctx_in)');

  const trace: string[] = [];
  const onTrace = (line: string) => trace.push(line);
  let result: TestRunResult;
  let name: string;
  let object: LoadedObject;
  // A run refused for its input names the input.
  const refused = (err: unknown) => aboutFile(options.dataIn!, err);
  if (engine === 'both') {
    const d = await DifferentialObject.load(file, { cpus, onTrace });
    object = d.interp;
    name = programName(d.interp, options.program);
    try {
      result = d.testRun(name, runOptions);
    } catch (err) {
      throw refused(err);
    }
    // Each line was printed once per engine.
    trace.splice(trace.length / 2);
  } else {
    // Only the program asked for needs to load (libbpf's autoload); others are not even verified.
    const obj = await new Runtime({ engine, cpus, onTrace }).loadObject(file, options.program !== undefined ? { programs: [options.program] } : {})
      .catch((err: unknown) => { throw aboutFile(file, err); });
    object = obj;
    name = programName(obj, options.program);
    try {
      result = obj.program(name).testRun(runOptions);
    } catch (err) {
      throw refused(err);
    }
  }

  const write = (target: string | undefined, bytes: Uint8Array | undefined) => {
    if (target === undefined || target === '-' || bytes === undefined) return;
    writeFileSync(target, bytes);
  };
  write(options.dataOut, result.dataOut);
  write(options.ctxOut, result.ctxOut);

  if (options.json) {
    process.stdout.write(`${JSON.stringify({
      program: name,
      engine,
      verified: object.program(name).verified,
      retval: result.retval,
      duration: result.durationNs,
      errno: result.errno,
      data_size_out: result.dataSizeOut,
      data_out: Buffer.from(result.dataOut).toString('hex'),
      ...(result.ctxOut ? { ctx_out: Buffer.from(result.ctxOut).toString('hex') } : {}),
      trace,
      ...(options.maps ? { maps: dumpMaps(object) } : {}),
    })}\n`);
    return;
  }
  // Repeated runs print the same lines again and again: consecutive repeats are shown once, counted.
  for (let i = 0; i < trace.length; ) {
    let j = i + 1;
    while (j < trace.length && trace[j] === trace[i]) j++;
    process.stdout.write(`trace: ${trace[i]!.replace(/\n$/, '')}${j - i > 1 ? ` (x${j - i})` : ''}\n`);
    i = j;
  }
  if (options.dataOut === '-') process.stdout.write(`data_out:\n${hexDump(result.dataOut)}\n\n`);
  if (options.ctxOut === '-' && result.ctxOut) process.stdout.write(`ctx_out:\n${hexDump(result.ctxOut)}\n\n`);
  if (result.errno) process.stdout.write(`errno ${result.errno}: output truncated to the sizes given (data_size_out ${result.dataSizeOut})\n`);
  process.stdout.write(`Return value: ${result.retval}, duration${runOptions.repeat! > 1 ? ' (average)' : ''}: ${result.durationNs}ns\n`);
  process.stdout.write(`Verified: ${object.program(name).verified ? 'yes' : `no (${object.program(name).verdict.reason})`}\n`);
  if (options.maps) process.stdout.write(`${JSON.stringify(dumpMaps(object), null, 2)}\n`);
}
