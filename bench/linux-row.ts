// One row of the side-by-side comparison with Linux (linux.ts) on one of our engines, in a worker
// thread of its own: each program is measured in an isolate where no other program ran, as
// `ebpf-wasm test-run` runs one in a process of its own (and bpftool the kernel's). Measured after
// the others in one isolate, a program runs the interpreter's loop with the type feedback they
// left, up to twice as slow as on its own.
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineKind } from '../index.js';
import { loadOurs, meanOver, ROWS } from './linux.js';

const { row: name, engine } = workerData as { readonly row: string; readonly engine: EngineKind };
const row = ROWS.find((r) => r.name === name);
if (!row) throw new Error(`no bench row '${name}'`);
const program = await loadOurs(row, engine);
const repeat = engine === 'jit' ? row.repeat.jit : row.repeat.interp;
// A warm-up run, so that every timed round sees compiled code.
program.testRun({ dataIn: row.packets[0]!, repeat: Math.min(repeat, 10_000) });
const port = parentPort!;
// Each message asks for a round; the parent terminates the worker when it has them all.
port.on('message', () => port.postMessage(meanOver(row, (p) => program.testRun({ dataIn: p, repeat }).durationNs)));
port.postMessage('ready');
