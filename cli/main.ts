#!/usr/bin/env node
// The ebpf-wasm command line. Every command prints one clear line and exits 1 on bad input.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { GROUPS, setJitDiskCache } from '../index.js';
import { asmCommand, compileCommand, disasmCommand } from './asm.js';
import { conformanceCommand, pluginCommand } from './conformance.js';
import { report } from './errors.js';
import { runCommand } from './run.js';
import { testRunCommand } from './test-run.js';
import { replayCommand } from './replay.js';
import { controlCommand } from './control.js';
import { verifyCommand } from './verify.js';
import { playgroundCommand } from './playground.js';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Modules the JIT compiled are kept on disk, so that the next run of the same object skips binaryen
// (EBPF_WASM_CACHE_DIR names the folder, or turns it off).
setJitDiskCache('default');

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('ebpf-wasm')
  .description('An eBPF runtime for JavaScript: a checked BPF interpreter and a BPF-to-WebAssembly JIT')
  .version(version, '-V, --version', 'print the version')
  .option('--debug', 'print stack traces for errors')
  // Usage errors are one line too, in the same form as every other error.
  .configureOutput({ outputError: (text, write) => write(`ebpf-wasm: ${text.replace(/^error: /, '')}`) });

function action<A extends unknown[]>(fn: (...args: A) => void | Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      report(err, Boolean(program.opts().debug));
    }
  };
}

/** Collects a repeatable option's values. */
const collect = (value: string, previous: string[]) => [...previous, value];

const engineOption = () => new Option('--engine <engine>', 'interp (checked interpreter), jit (WebAssembly) or both (compare them)').choices(['interp', 'jit', 'both']).default('interp');

program
  .command('run')
  .description('run a program (.asm, .data or raw bytes): r1 = memory, r2 = its length')
  .argument('<file>', 'program: .asm/.s text, a bpf_conformance .data test, or raw instruction bytes')
  .option('--mem <hex>', 'input memory as hex bytes')
  .option('--mem-file <file>', 'input memory from a file')
  .option('--trace', 'print every instruction with the registers it sees')
  .option('--budget <n>', 'stop a runaway program: after this many instructions on the interpreter, loop back-edges on the JIT')
  .option('--json', 'print the result as JSON')
  .option('--emit-wat', 'with --engine jit: print the generated WebAssembly text first')
  .addOption(engineOption())
  .addHelpText('after', '\nExample:\n  ebpf-wasm run examples/checksum.asm --mem-file examples/ipv4-header.bin --engine jit')
  .action(action((file: string, opts) => runCommand(file, opts)));

program
  .command('replay')
  .description('replay a capture through interfaces and their programs, carrying out every verdict as Linux would')
  .argument('[object]', 'a BPF ELF object: its program runs on one interface, eth0 (or use --topology)')
  .option('--pcap <file>', 'the capture (pcap or pcapng); with --topology, a pcapng whose interface names pick the interfaces')
  .option('--program <name>', 'the program to run (needed when the object has several)')
  .option('--topology <file>', 'a topology file: objects, interfaces, their programs and captures, map contents')
  .option('--interface <name>', 'with --topology and --pcap: the interface a pcap (or unnamed pcapng) feeds')
  .option('--out <dir>', 'write <ifname>-tx, <ifname>-pass, drop and aborted captures here')
  .option('--pcapng', 'write pcapng (interface names, and the cause of each drop as a comment) instead of pcap')
  .option('--limit <n>', 'stop after this many packets')
  .option('--cpus <n>', 'simulated CPUs (receive queues spread over them; per-CPU maps keep one value each)', '1')
  .option('--verbose', 'print a line per packet: where each frame ended, and its trace lines')
  .option('--dump-maps', 'after the replay, print every map as JSON (typed by BTF, globals included)')
  .option('--map <name=file>', 'state before the replay, from JSON (as --dump-maps prints it): global data as { variable: value } (.rodata too: set before load), other maps as [{ key, value }]; with --topology, name maps object/map; repeatable', collect, [])
  .option('--meta-key <name=key...>', 'name a key of the XDP metadata store (0-63), for the --pcapng comments: --meta-key packet_id=12')
  .option('--no-progress', 'no progress bar on a terminal')
  .option('--no-lane', 'take every packet through the datapath one at a time, not the WebAssembly lane (same results; to compare)')
  .option('--json', 'print the summary as JSON')
  .option('--engine <engine>', 'jit (WebAssembly, verified programs) or interp (checked interpreter)', 'jit')
  .addHelpText('after', '\nExamples:\n  ebpf-wasm replay --topology examples/lb/topology.json --out /tmp/lb\n  ebpf-wasm replay examples/firewall/firewall.o --pcap examples/firewall/traffic.pcap --json')
  .action(action((file: string | undefined, opts) => replayCommand(file, opts)));

program
  .command('control')
  .description('print the record layouts of the control maps (BPF_MAP_TYPE_CONTROL, an extension), as C')
  .option('--json', 'print them as JSON: fields with offsets, sizes and which are writable')
  .addHelpText('after', '\nExample:\n  ebpf-wasm control')
  .action(action((opts: { json?: boolean }) => controlCommand(opts)));

program
  .command('test-run')
  .description('BPF_PROG_TEST_RUN on a program of an ELF object, as bpftool prog run: retval, duration, data and context out')
  .argument('<object>', 'a clang-compiled BPF ELF object')
  .option('--program <name>', 'the program to run (needed when the object has several)')
  .option('--data-in <file>', 'the packet (data_in)')
  .option('--data-out <file>', "write data_out here ('-' prints a hex dump)")
  .option('--data-size-out <n>', 'room for data_out; a longer output is truncated and errno is -ENOSPC')
  .option('--ctx-in <file>', 'the context struct (ctx_in), e.g. a struct xdp_md')
  .option('--ctx-out <file>', "write ctx_out here ('-' prints a hex dump)")
  .option('--ctx-size-out <n>', 'room for ctx_out')
  .option('--repeat <n>', 'run this many times on the same buffer (up to 4294967295); duration is the mean of a run after the first tenth, a warm-up', '1')
  .option('--budget <n>', 'stop a runaway run: after this many instructions on the interpreter, loop back-edges on the JIT (default 100000000)')
  .option('--cpu <n>', 'simulated CPU to run on', '0')
  .option('--cpus <n>', 'simulated CPUs (per-CPU maps keep one value each)', '1')
  .option('--maps', 'after the run, print every map as JSON (typed by the object\'s BTF, as bpftool map dump)')
  .option('--map <name=file>', 'state before the run, from JSON (as --maps prints it): global data as { variable: value } (.rodata too: set before load), other maps as [{ key, value }]; repeatable', collect, [])
  .option('--no-progress', 'no progress bar on a terminal for a long --repeat')
  .option('--json', 'print the result as JSON')
  .addOption(engineOption())
  .addHelpText('after', [
    '',
    'Duration is measured as bpftool reports it, in ns per run, after a warm-up: the first tenth of',
    'the runs are not timed (V8 compiles WebAssembly and JavaScript in tiers as they run), but they',
    'run all the same, so maps see every run. With --engine both, each engine\'s duration is printed.',
    '',
    'Example:',
    '  ebpf-wasm test-run examples/xdp_ttl.o --data-in examples/udp.bin --data-out -',
    '  ebpf-wasm test-run examples/xdp_ttl.o --data-in examples/udp-ttl1.bin --repeat 100000 --engine jit',
  ].join('\n'))
  .action(action((file: string, opts) => testRunCommand(file, opts)));

program
  .command('compile')
  .description('compile a program ahead of time to a standalone WebAssembly module (imports: see the README)')
  .argument('<file>', 'program: .asm/.s text, a .data test, or raw instruction bytes')
  .option('-o, --output <file>', 'write the .wasm here')
  .option('--emit-wat', 'print the WebAssembly text')
  .option('--optimize <level>', '0 none, 1 inlining and dead code (default), 2..4 binaryen -O2..-O4', '1')
  .addHelpText('after', '\nExample:\n  ebpf-wasm compile examples/checksum.asm -o checksum.wasm')
  .action(action((file: string, opts) => compileCommand(file, opts)));

program
  .command('conformance')
  .description('run bpf_conformance .data tests and report pass/fail/skip per conformance group')
  .argument('<dirs...>', 'folders of .data files (searched recursively; cases under negative/ are counted apart), or single files')
  .addOption(engineOption())
  .option('--cpu-version <v>', 'highest ISA version to run: v1..v4', 'v4')
  .option('--include-groups <groups...>', `groups to run (default: all: ${GROUPS.join(' ')})`)
  .option('--exclude-groups <groups...>', 'groups to skip')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', '\nExample:\n  ebpf-wasm conformance ../shared/bpf_conformance/tests --engine interp --cpu-version v4')
  .action(action((dirs: string[], opts) => conformanceCommand(dirs, opts)));

program
  .command('plugin')
  .description('bpf_conformance plugin protocol: program hex on stdin, r0 printed in hex')
  .argument('[memhex]', 'input memory as hex bytes')
  .addOption(engineOption())
  .option('--elf', 'stdin carries an ELF object (not supported: use test-run for objects)')
  .addHelpText('after', '\nExample:\n  echo b7000000050000009500000000000000 | ebpf-wasm plugin')
  .action(action((memhex: string | undefined, opts) => pluginCommand(memhex, opts)));

program
  .command('verify')
  .description('verify the programs of an ELF object as loading would: accepted with statistics, or why each is rejected')
  .argument('<object>', 'a clang-compiled BPF ELF object')
  .option('--program <name>', 'verify only this program (and what it calls)')
  .option('--log', 'print every instruction the verifier walked, with the registers after it, never truncated')
  .option('--json', 'print { file, programs: [ { name, section, type, verdict, error, pc, line, insns_processed, states, ms, ... } ] }')
  .option('--strict-alignment', 'verify as Linux does with BPF_F_STRICT_ALIGNMENT')
  .addHelpText('after', '\nExits 1 when a program is rejected.\n\nExample:\n  ebpf-wasm verify tests/fixtures/xdp_firewall.o\n  ebpf-wasm verify prog.o --program xdp_main --log')
  .action(action((file: string, opts) => verifyCommand(file, opts)));

program
  .command('playground')
  .description('serve the playground on localhost: examples or your own objects and captures, verified, disassembled and replayed in the browser')
  .option('--port <n>', 'port to listen on (0 picks a free one)', '8080')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .addHelpText('after', '\nThe page runs everything in the browser; the server only hands out its files.\n\nExample:\n  ebpf-wasm playground --port 8080')
  .action(action((opts) => playgroundCommand(opts)));

program
  .command('asm')
  .description('assemble bpf_conformance-syntax text into raw instruction bytes')
  .argument('<file>', 'assembler text')
  .option('-o, --output <file>', 'write the bytes here (default: print hex, one instruction a line)')
  .addHelpText('after', '\nExample:\n  ebpf-wasm asm examples/checksum.asm -o checksum.bin')
  .action(action((file: string, opts) => asmCommand(file, opts)));

program
  .command('disasm')
  .description('disassemble a program: an ELF object as llvm-objdump -d prints it, anything else as assembler text')
  .argument('<file>', 'an ELF object, .asm, .data or raw instruction bytes')
  .option('--objdump', 'print in llvm-objdump\'s C-like style (always for ELF objects)')
  .option('--alu32', 'with the objdump style: show 32-bit operations on w registers, as llvm-objdump --mattr=+alu32')
  .option('--source', 'ELF objects: interleave the source lines BTF line info gives (objects compiled with -g)')
  .addHelpText('after', '\nExample:\n  ebpf-wasm disasm checksum.bin\n  ebpf-wasm disasm tests/fixtures/xdp_firewall.o --source')
  .action(action((file: string, opts) => disasmCommand(file, opts)));

await program.parseAsync();
