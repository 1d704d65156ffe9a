// `ebpf-wasm test-run`: BPF_PROG_TEST_RUN on a program of an ELF object, as `bpftool prog run`
// does it: data and context in from files, retval and average duration out, data_out and ctx_out
// written to files ('-' for a hex dump on stdout).
import {
  captureFormatOf, DifferentialObject, ExecutionError, Runtime, SkbTestRunError, XdpTestRunError,
  type LoadedObject, type TestRunOptions, type TestRunResult,
} from '../index.js';
import { parseEngine } from './conformance.js';
import { checkOutput, integerOption, readInput, writeOutput } from './input.js';
import { aboutFile, UsageError } from './errors.js';
import { blameGlobals, fillMaps, globalsOf, parseMapOptions } from './map-state.js';
import { dumpMaps } from './maps.js';
import { ProgressBar } from './progress.js';

export interface TestRunCliOptions {
  program?: string;
  dataIn?: string;
  ctxIn?: string;
  dataOut?: string;
  ctxOut?: string;
  dataSizeOut?: string;
  ctxSizeOut?: string;
  repeat?: string;
  budget?: string;
  engine?: string;
  cpu?: string;
  cpus?: string;
  json?: boolean;
  maps?: boolean;
  map?: string[];
  progress?: boolean;
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

/** Refuses a capture file given as a packet: test-run takes one frame's bytes, replay takes captures. */
function checkNotCapture(path: string, bytes: Uint8Array, object: string): void {
  // A frame is no capture unless it is as long as a capture's header.
  if (bytes.length < 24) return;
  const kind = captureFormatOf(bytes);
  if (kind) throw new UsageError(`${path}: is a ${kind} capture, not one packet; replay captures with: ebpf-wasm replay ${object} --pcap ${path}`);
}

/** Where a redirect of the last run was going, in words. */
function describeRedirect(redirect: NonNullable<TestRunResult['redirect']>): string {
  if ('ifindex' in redirect) return `ifindex ${redirect.ifindex}${redirect.flags & 1n ? ' (ingress)' : ''}`;
  const flags = redirect.flags ? ` flags 0x${redirect.flags.toString(16)}` : '';
  return redirect.map !== undefined ? `map '${redirect.map}' key ${redirect.target}${flags}` : `ifindex ${redirect.target}${flags}`;
}

export async function testRunCommand(file: string, options: TestRunCliOptions): Promise<void> {
  const engine = parseEngine(options.engine ?? 'interp');
  if (options.dataIn === undefined) throw new UsageError('--data-in: required (a file with the packet)');
  readInput(file);
  const dataIn = new Uint8Array(readInput(options.dataIn));
  checkNotCapture(options.dataIn, dataIn, file);
  const ctxIn = options.ctxIn !== undefined ? new Uint8Array(readInput(options.ctxIn)) : undefined;
  const cpus = integerOption(options.cpus, '--cpus', 1, 4096) ?? 1;
  const cpu = integerOption(options.cpu, '--cpu', 0) ?? 0;
  if (cpu >= cpus) throw new UsageError(`--cpu: ${cpu} is not one of the ${cpus} simulated CPUs (--cpus ${cpus} numbers them 0 to ${cpus - 1})`);
  const budget = integerOption(options.budget, '--budget', 1, 0x7fffffff);
  const repeat = integerOption(options.repeat, '--repeat', 0) ?? 1;
  if (options.ctxOut !== undefined && !ctxIn) throw new UsageError('--ctx-out: needs --ctx-in (the kernel refuses ctx_out without ctx_in)');
  for (const target of [options.dataOut, options.ctxOut]) if (target !== undefined && target !== '-') checkOutput(target);
  const mapOptions = parseMapOptions(options.map);
  const globals = globalsOf(mapOptions);

  const bar = ProgressBar.onTerminal('runs', !options.json && options.progress !== false && repeat >= 1 << 20);
  const runOptions: TestRunOptions = {
    dataIn,
    ...(ctxIn ? { ctxIn, ctxOut: options.ctxOut !== undefined } : {}),
    ...(options.dataSizeOut !== undefined ? { dataSizeOut: integerOption(options.dataSizeOut, '--data-size-out', 1)! } : {}),
    ...(options.ctxSizeOut !== undefined ? { ctxSizeOut: integerOption(options.ctxSizeOut, '--ctx-size-out', 0)! } : {}),
    repeat,
    cpu,
    ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, done / total) } : {}),
  };

  // Repeated runs print the same lines again and again: consecutive repeats are kept once, counted,
  // so that a long --repeat does not hold every line.
  const trace: { line: string; count: number }[] = [];
  const onTrace = (text: string) => {
    const line = text.replace(/\n$/, '');
    const last = trace[trace.length - 1];
    if (last?.line === line) last.count++;
    else trace.push({ line, count: 1 });
  };
  const runtimeOptions = { cpus, onTrace, ...(budget !== undefined ? { budget } : {}) };
  const loadOptions = {
    // Only the program asked for needs to load (libbpf's autoload); others are not even verified.
    ...(options.program !== undefined ? { programs: [options.program] } : {}),
    ...(Object.keys(globals).length ? { globals } : {}),
  };
  const loadFailed = (err: unknown) => {
    const blamed = blameGlobals(mapOptions, err);
    throw blamed !== err ? blamed : aboutFile(file, err);
  };
  let result: TestRunResult;
  let jitDuration: number | undefined;
  let name: string;
  let object: LoadedObject;
  // A refused run blames the input it refused; a fault or a spent budget blames the program.
  const blame = (err: unknown) => {
    if (err instanceof XdpTestRunError || err instanceof SkbTestRunError) {
      if (err.input === 'data_in') return aboutFile(options.dataIn!, err);
      if (err.input === 'ctx_in' && options.ctxIn !== undefined) return aboutFile(options.ctxIn, err);
    }
    if (err instanceof ExecutionError || err instanceof XdpTestRunError || err instanceof SkbTestRunError) return aboutFile(`${file}: program '${name}'`, err);
    return err;
  };
  try {
    if (engine === 'both') {
      const d = await DifferentialObject.load(file, runtimeOptions, loadOptions).catch(loadFailed);
      fillMaps(d.interp, mapOptions);
      fillMaps(d.jit, mapOptions);
      object = d.interp;
      name = programName(d.interp, options.program);
      try {
        const both = d.testRunBoth(name, runOptions);
        result = both.interp;
        jitDuration = both.jit.durationNs;
      } catch (err) {
        throw blame(err);
      }
    } else {
      const obj = await new Runtime({ engine, ...runtimeOptions }).loadObject(file, loadOptions).catch(loadFailed);
      fillMaps(obj, mapOptions);
      object = obj;
      name = programName(obj, options.program);
      try {
        result = obj.program(name).testRun(runOptions);
      } catch (err) {
        throw blame(err);
      }
    }
  } finally {
    bar?.clear();
  }

  if (options.dataOut !== undefined && options.dataOut !== '-') writeOutput(options.dataOut, result.dataOut);
  if (options.ctxOut !== undefined && options.ctxOut !== '-' && result.ctxOut) writeOutput(options.ctxOut, result.ctxOut);

  if (options.json) {
    process.stdout.write(`${JSON.stringify({
      program: name,
      engine,
      verified: object.program(name).verified,
      retval: result.retval,
      duration: result.durationNs,
      ...(jitDuration !== undefined ? { duration_jit: jitDuration } : {}),
      errno: result.errno,
      data_size_out: result.dataSizeOut,
      data_out: Buffer.from(result.dataOut).toString('hex'),
      ...(result.ctxOut ? { ctx_out: Buffer.from(result.ctxOut).toString('hex') } : {}),
      ...(result.redirect ? { redirect: JSON.parse(JSON.stringify(result.redirect, (_, v) => (typeof v === 'bigint' ? Number(v) : v))) } : {}),
      trace,
      ...(options.maps ? { maps: dumpMaps(object) } : {}),
    })}\n`);
    return;
  }
  for (const { line, count } of trace) process.stdout.write(`trace: ${line}${count > 1 ? ` (x${count})` : ''}\n`);
  if (options.dataOut === '-') process.stdout.write(`data_out:\n${hexDump(result.dataOut)}\n\n`);
  if (options.ctxOut === '-' && result.ctxOut) process.stdout.write(`ctx_out:\n${hexDump(result.ctxOut)}\n\n`);
  if (result.errno) process.stdout.write(`errno ${result.errno}: output truncated to the sizes given (data_size_out ${result.dataSizeOut})\n`);
  if (result.redirect) process.stdout.write(`Redirect: ${describeRedirect(result.redirect)} (recorded, not carried out, as in Linux; replay carries it out)\n`);
  const average = repeat > 1 ? ' (average)' : '';
  const duration = jitDuration !== undefined ? `interpreter ${result.durationNs}ns, JIT ${jitDuration}ns` : `${result.durationNs}ns`;
  process.stdout.write(`Return value: ${result.retval}, duration${average}: ${duration}\n`);
  process.stdout.write(`Verified: ${object.program(name).verified ? 'yes' : `no (${object.program(name).verdict.reason})`}\n`);
  if (options.maps) process.stdout.write(`${JSON.stringify(dumpMaps(object), null, 2)}\n`);
}
