// The command line as a user meets it: real processes, exit codes, one-line errors.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT, SUITE_DIR, suiteAvailable } from '../support/suite.js';
import { assemble } from '../../isa/assembler.js';
import { encode } from '../../isa/instruction.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';

// The bundled command line, as the package's bin runs it.
const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'ebpf-wasm.mjs');
const execFileAsync = promisify(execFile);

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: PROJECT_ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-cli-'));
const asmFile = join(dir, 'sum.asm');
writeFileSync(asmFile, 'mov %r0, 0\nloop:\nldxb %r3, [%r1+0]\nadd %r0, %r3\nadd %r1, 1\nsub %r2, 1\njne %r2, 0, loop\nexit\n');

describe('ebpf-wasm CLI', () => {
  test('run prints r0 and the instruction count', () => {
    const r = cli(['run', asmFile, '--mem', '01 02 03 04']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('r0 = 0xa (10)\nexecuted 22 instructions\n');
  });

  test('run --json is machine-readable', () => {
    const r = cli(['run', asmFile, '--mem', '0102', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ r0: '0x3', instructions: 12, memory: '0102' });
  });

  test('run --trace prints each instruction with its registers', () => {
    const r = cli(['run', asmFile, '--mem', '05', '--trace']);
    expect(r.stdout).toContain('ldxb %r3, [%r1]');
    expect(r.stdout.split('\n').filter((l) => /^\s+\d+ /.test(l)).length).toBe(7);
  });

  test('asm writes raw bytes and disasm reads them back', () => {
    const out = join(dir, 'sum.bin');
    expect(cli(['asm', asmFile, '-o', out]).code).toBe(0);
    expect(readFileSync(out).length).toBe(7 * 8);
    const d = cli(['disasm', out]);
    expect(d.stdout.split('\n')[1]).toBe('ldxb %r3, [%r1]');
  });

  test('disasm prints every fixture object exactly as llvm-objdump -d does', async () => {
    const fixtures = join(PROJECT_ROOT, 'tests', 'fixtures');
    const objects = readdirSync(fixtures).filter((f) => f.endsWith('.o'));
    expect(objects.length).toBeGreaterThan(10);
    // One process per object, awaited: the worker's event loop stays free while they run.
    for (const object of objects) {
      const { stdout } = await execFileAsync(process.execPath, [CLI, 'disasm', object], { encoding: 'utf8', cwd: fixtures, maxBuffer: 1 << 26 });
      expect(stdout, object).toBe(readFileSync(join(fixtures, 'golden', object.replace(/\.o$/, '.objdump')), 'utf8'));
    }
  });

  test('plugin speaks the bpf_conformance protocol', () => {
    // ldxh %r0, [%r1+2]; exit with memory aa bb 11 22
    const r = cli(['plugin', 'aa  bb  11  22  '], '6910020000000000' + '9500000000000000\n');
    expect(r).toMatchObject({ code: 0, stdout: '2211\n' });
    const bad = cli(['plugin'], '9500000000000000\n');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^ebpf-wasm: pc 0: r0 is read before it is written\n$/);
  });

  test.skipIf(!suiteAvailable())('conformance prints the group table and the closing line', () => {
    const r = cli(['conformance', SUITE_DIR, '--engine', 'interp', '--cpu-version', 'v4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/callx\s+1\s+0\s+0/);
    expect(r.stdout).toContain('313 passed, 0 failed, 0 skipped');
  });

  test.for([
    { args: ['run', 'missing.asm'], message: /^ebpf-wasm: missing\.asm: cannot read \(no such file\)$/ },
    { args: ['run', '__BAD_ASM__'], message: /^ebpf-wasm: .*bad\.asm:2: Invalid mnemonic: frob$/ },
    { args: ['run', '__ASM__', '--mem', 'zz'], message: /^ebpf-wasm: --mem: 'zz' is not a hex byte$/ },
    { args: ['run', '__ASM__', '--mem', '01', '--budget', '3'], message: /^ebpf-wasm: pc 3: instruction budget of 3 exhausted$/ },
    { args: ['run', '__TRUNC__'], message: /^ebpf-wasm: .*trunc\.bin: program length 5 is not a multiple of 8 bytes$/ },
    { args: ['conformance', 'no-such-dir'], message: /^ebpf-wasm: no-such-dir: cannot read \(no such file or directory\)$/ },
    { args: ['conformance', '.', '--engine', 'turbo'], message: /^ebpf-wasm: option '--engine <engine>' argument 'turbo' is invalid\. Allowed choices are interp, jit, both\.$/ },
    { args: ['run', '__ASM__', '--trace', '--engine', 'jit'], message: /^ebpf-wasm: --trace: only the interpreter traces \(use --engine interp\)$/ },
    { args: ['compile', '__ASM__'], message: /^ebpf-wasm: compile: give -o OUT\.wasm, --emit-wat, or both$/ },
    { args: ['conformance', '.', '--cpu-version', 'v9'], message: /^ebpf-wasm: --cpu-version: 'v9' is not v1, v2, v3 or v4$/ },
  ])('bad input gets one line and exit 1: $args', ({ args, message }) => {
    writeFileSync(join(dir, 'bad.asm'), 'mov %r0, 1\nfrob %r0\nexit\n');
    writeFileSync(join(dir, 'trunc.bin'), Buffer.alloc(5));
    const real = args.map((a) => a.replace('__BAD_ASM__', join(dir, 'bad.asm')).replace('__ASM__', asmFile).replace('__TRUNC__', join(dir, 'trunc.bin')));
    const r = cli(real);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('run on the JIT verifies a bare program first (r1 = the memory, r2 = its size) and refuses what fails', () => {
    const unchecked = join(dir, 'unchecked.asm');
    writeFileSync(unchecked, 'ldxb %r0, [%r1+8]\nexit\n');
    expect(JSON.parse(cli(['run', asmFile, '--mem', '01 02', '--engine', 'jit', '--json']).stdout)).toMatchObject({ verified: true, r0: '0x3' });
    const r = cli(['run', unchecked, '--mem', '01 02', '--engine', 'jit']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ebpf-wasm: .*unchecked\.asm: the JIT runs verified programs only, and the verifier refuses this one: pc 0: invalid access to memory, mem_size=2 off=8 size=1 \(run it with --engine interp/);
    // The checked interpreter runs it unverified and traps the access.
    const interp = cli(['run', unchecked, '--mem', '01 02', '--json']);
    expect(interp.code).toBe(1);
    expect(interp.stderr).toMatch(/pc 0: read of 1 byte at 0x[0-9a-f]+ is outside/);
  });

  test('run works on every engine, and --emit-wat prints the module', () => {
    for (const engine of ['interp', 'jit', 'both']) {
      expect(cli(['run', asmFile, '--mem', '01 02 03 04', '--engine', engine]).stdout).toMatch(/^r0 = 0xa \(10\)\n/);
    }
    const wat = cli(['run', asmFile, '--mem', '01', '--engine', 'jit', '--emit-wat']);
    expect(wat.stdout).toMatch(/^\(module\n/);
    expect(wat.stdout).toContain('(export "run"');
  });

  test('every command has --help with an example', () => {
    for (const cmd of ['run', 'test-run', 'verify', 'conformance', 'plugin', 'asm', 'disasm', 'compile']) {
      const r = cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Example:');
    }
  });

  describe('verify', () => {
    const fixtures = join(PROJECT_ROOT, 'tests', 'fixtures');
    test('prints each program accepted, with the counts Linux prints', () => {
      const r = cli(['verify', join(fixtures, 'tail_calls.o')]);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/\d+ insns, \d+ states, [\d.]+ ms/, 'N'))).toEqual([
        'stage_ipv4 (xdp, xdp): accepted: processed N', 'stage_ipv6 (xdp, xdp): accepted: processed N',
        'stage_final (xdp, xdp): accepted: processed N', 'entry (xdp, xdp): accepted: processed N',
      ]);
    });

    test('--json gives one document with a verdict per program', () => {
      const r = cli(['verify', join(fixtures, 'xdp_firewall.o'), '--json']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.programs).toHaveLength(1);
      expect(doc.programs[0]).toMatchObject({ name: 'xdp_firewall', section: 'xdp', type: 'xdp', verdict: 'accepted', error: null, pc: null, line: null });
      expect(doc.programs[0].insns_processed).toBeGreaterThan(100);
      expect(typeof doc.programs[0].ms).toBe('number');
    });

    test('--log prints every instruction walked, and --program limits it to one program', () => {
      const r = cli(['verify', join(fixtures, 'tail_calls.o'), '--program', 'entry', '--log']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^0: r6 = r1 +; R1=ctx\(\) R6=ctx\(\) R10=fp0$/m);
      expect(r.stdout).not.toContain('stage_ipv4 (');
      expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^entry \(xdp, xdp\): accepted/);
    });

    test('an unknown program or file is one line and exit 1', () => {
      const r = cli(['verify', join(fixtures, 'tail_calls.o'), '--program', 'nope']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ebpf-wasm: .*tail_calls\.o: no program named 'nope' \(there are: stage_ipv4, stage_ipv6, stage_final, entry\)\n$/);
    });
  });

  describe('test-run', () => {
    const fixture = join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o');
    const packet = join(dir, 'packet.bin');
    // A UDP packet: Ethernet, IPv4 10.0.0.1 -> 10.0.0.2, ports 1234 -> 53, no payload.
    const bytes = Buffer.from('02000000000202000000000108004500001c00010000401166ce0a0000010a00000204d200350008e6d4', 'hex');
    writeFileSync(packet, bytes);

    test('prints retval and duration as bpftool prog run does, and writes data_out', () => {
      const out = join(dir, 'out.bin');
      const r = cli(['test-run', fixture, '--data-in', packet, '--data-out', out, '--repeat', '10']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Return value: 2, duration \(average\): \d+ns\nVerified: yes\n$/);
      expect(readFileSync(out)).toEqual(bytes);
    });

    test.for(['interp', 'jit', 'both'])('--json on %s', (engine) => {
      const r = cli(['test-run', fixture, '--data-in', packet, '--engine', engine, '--json', '--data-size-out', '20']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ program: 'xdp_firewall', engine, verified: true, retval: 2, errno: -28, data_size_out: 42, data_out: bytes.subarray(0, 20).toString('hex') });
    });

    test('--maps dumps every map after the run, typed by BTF', () => {
      const r = cli(['test-run', fixture, '--data-in', packet, '--json', '--maps', '--repeat', '3']);
      expect(r.code).toBe(0);
      const maps = JSON.parse(r.stdout).maps;
      // verdicts is an array of u64 counters indexed by enum verdict: V_PASS counted 3 times.
      expect(maps.verdicts[0]).toEqual({ key: 0, value: 3 });
      expect(maps.denied_ports).toEqual([]);
      expect(Object.keys(maps)).toEqual(['blocked_v4', 'blocked_v6', 'denied_ports', 'verdicts', '.rodata']);
    });

    test('bad input is one line naming it', () => {
      const several = cli(['test-run', join(PROJECT_ROOT, 'tests', 'fixtures', 'tail_calls.o'), '--data-in', packet]);
      expect(several.code).toBe(1);
      expect(several.stderr).toMatch(/^ebpf-wasm: .*tail_calls\.o: has 4 programs; choose one with --program \(stage_ipv4, stage_ipv6, stage_final, entry\)\n$/);
      const missing = cli(['test-run', fixture, '--data-in', join(dir, 'nope.bin')]);
      expect(missing.stderr).toMatch(/^ebpf-wasm: .*nope\.bin: cannot read \(no such file\)\n$/);
      const runt = join(dir, 'runt.bin');
      writeFileSync(runt, bytes.subarray(0, 10));
      expect(cli(['test-run', fixture, '--data-in', runt]).stderr).toMatch(/^ebpf-wasm: .*runt\.bin: test run refused \(-22\): data_in of 10 bytes is shorter than an Ethernet header\n$/);
      const bad = join(dir, 'bad.o');
      writeFileSync(bad, readFileSync(fixture).subarray(0, 100));
      const truncated = cli(['test-run', bad, '--data-in', packet]);
      expect(truncated.code).toBe(1);
      expect(truncated.stderr.split('\n').length).toBe(2);
      expect(truncated.stderr).toContain('bad.o');
    });
  });

  describe('errors blame the input at fault', () => {
    const fixture = join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o');
    const packet = join(PROJECT_ROOT, 'examples', 'udp.bin');
    /** An object with one XDP program, `prog`, from assembler text. */
    const objectFile = (name: string, asm: string) => {
      const code = encode(assemble(asm));
      const path = join(dir, name);
      writeFileSync(path, writeElf({ programs: [{ name: 'xdp', code }], functions: [{ name: 'prog', section: 'xdp', offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' }));
      return path;
    };
    const oneLine = (r: { code: number | null; stderr: string }, message: RegExp) => {
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    };

    test('a CPU beyond --cpus is the option\'s fault, not the packet\'s', () => {
      oneLine(cli(['test-run', fixture, '--data-in', packet, '--cpu', '3']), /^ebpf-wasm: --cpu: 3 is not one of the 1 simulated CPUs/);
    });

    test('a context the kernel would refuse names the ctx file', () => {
      const ctx = join(dir, 'ctx.bin');
      writeFileSync(ctx, Buffer.from('garbage!garbage!garbage!', 'latin1'));
      oneLine(cli(['test-run', fixture, '--data-in', packet, '--ctx-in', ctx]), /^ebpf-wasm: .*ctx\.bin: test run refused \(-22\): xdp_md /);
    });

    test('a runaway program names the object and program, and --budget bounds it', () => {
      // A loop the verifier accepts (it ends) that runs longer than the budget allows.
      const loop = objectFile('loop.o', 'mov %r0, 0\nmov %r1, 2000\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nmov %r0, 2\nexit');
      oneLine(cli(['test-run', loop, '--data-in', packet, '--budget', '1000']), /^ebpf-wasm: .*loop\.o: program 'prog': pc \d: instruction budget of 1000 exhausted$/);
    });

    test('output files that cannot be written are one line, and nothing is left behind', () => {
      oneLine(cli(['test-run', fixture, '--data-in', packet, '--data-out', '/nonexistent/x']), /^ebpf-wasm: \/nonexistent\/x: cannot write \(no such directory\)$/);
      oneLine(cli(['asm', asmFile, '-o', '/nonexistent/x']), /^ebpf-wasm: \/nonexistent\/x: cannot write \(no such directory\)$/);
      oneLine(cli(['compile', asmFile, '-o', '/nonexistent/x.wasm']), /^ebpf-wasm: \/nonexistent\/x\.wasm: cannot write \(no such directory\)$/);
      oneLine(cli(['asm', asmFile, '-o', dir]), /cannot write \(is a directory\)$/);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    test('--repeat takes up to 2^32 - 1 and says so', () => {
      oneLine(cli(['test-run', fixture, '--data-in', packet, '--repeat', '100000000000']), /^ebpf-wasm: --repeat: '100000000000' is not an integer from 0 to 4,294,967,295$/);
      oneLine(cli(['test-run', fixture, '--data-in', packet, '--repeat', '-1']), /^ebpf-wasm: --repeat: '-1' is not an integer/);
    });

    test('an empty program file is named', () => {
      const empty = join(dir, 'empty.bin');
      writeFileSync(empty, '');
      oneLine(cli(['run', empty]), /^ebpf-wasm: .*empty\.bin: is empty/);
    });

    test('a capture given as --data-in points to replay', () => {
      const capture = join(PROJECT_ROOT, 'examples', 'firewall', 'traffic.pcap');
      oneLine(cli(['test-run', fixture, '--data-in', capture]), /^ebpf-wasm: .*traffic\.pcap: is a pcap capture, not one packet; replay captures with: ebpf-wasm replay /);
    });

    test('conformance refuses a file that is not a .data test', () => {
      oneLine(cli(['conformance', join(PROJECT_ROOT, 'README.md')]), /README\.md: not a \.data test/);
    });
  });

  test('test-run shows where a redirect was going, in text and JSON', () => {
    // xdp_redirect.o redirects to ifindex <UDP destination port> when the destination MAC ends in 00.
    const frame = readFileSync(join(PROJECT_ROOT, 'examples', 'udp.bin'));
    frame[5] = 0;
    const packet = join(dir, 'to-port.bin');
    writeFileSync(packet, frame);
    const object = join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_redirect.o');
    const text = cli(['test-run', object, '--data-in', packet]);
    expect(text.stdout).toMatch(/^Redirect: ifindex 53 \(recorded, not carried out, as in Linux; replay carries it out\)\nReturn value: 4, /m);
    expect(JSON.parse(cli(['test-run', object, '--data-in', packet, '--json']).stdout).redirect).toEqual({ target: 53, flags: 0 });
  });

  describe('--map sets up state before a run', () => {
    const object = join(PROJECT_ROOT, 'tests', 'fixtures', 'global_data.o');
    const packet = join(PROJECT_ROOT, 'examples', 'udp.bin');
    const json = (name: string, value: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
      return path;
    };

    test.for(['interp', 'jit', 'both'])('.rodata before load and .data, as --maps prints them (%s)', (engine) => {
      const rodata = json('ro.json', { max_len: 20, verbose: 1 });
      const data = json('data.json', { packets: 100 });
      const r = cli(['test-run', object, '--data-in', packet, '--engine', engine, '--map', `.rodata=${rodata}`, '--map', `.data=${data}`, '--json', '--maps']);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.retval).toBe(0);
      expect(out.trace).toEqual([{ line: 'len 33 (max 20), tag custom', count: 1 }]);
      expect(out.maps['.data'].packets).toBe(101);
    });

    test('maps take the entries --maps prints, and the replay\'s topology takes object/map', () => {
      const fixture = join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o');
      const before = JSON.parse(cli(['test-run', fixture, '--data-in', packet, '--json', '--maps']).stdout);
      expect(before.retval).toBe(2);
      // Deny UDP port 53: the firewall drops the packet.
      const denied = json('denied.json', [{ key: { proto: 17, port: 53 }, value: 1 }]);
      const after = JSON.parse(cli(['test-run', fixture, '--data-in', packet, '--json', '--maps', '--map', `denied_ports=${denied}`]).stdout);
      expect(after.retval).toBe(1);
      // The value counts hits: the one given, and this packet's.
      expect(after.maps.denied_ports).toEqual([{ key: { proto: 17, pad: 0, port: 53 }, value: 2 }]);
      // Two backends instead of three: the third sees no traffic.
      const config = json('lb-config.json', [{ key: 0, value: { vip: '10.0.0.100', port: 80, backends: 2 } }]);
      const replay = JSON.parse(cli(['replay', '--topology', 'examples/lb/topology.json', '--map', `lb/config=${config}`, '--json']).stdout);
      expect(replay.interfaces.be3.tx).toBeLessThan(10);
      expect(replay.interfaces.be1.tx + replay.interfaces.be2.tx).toBeGreaterThan(200);
    });

    test('mistakes name the JSON file and where in it', () => {
      const oneLine = (args: string[], message: RegExp) => {
        const r = cli(args);
        expect(r.code).toBe(1);
        expect(r.stderr.trimEnd()).toMatch(message);
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      };
      const run = (...map: string[]) => ['test-run', object, '--data-in', packet, ...map.flatMap((m) => ['--map', m])];
      oneLine(run(`.rodata=${json('bad-var.json', { nope: 1 })}`), /^ebpf-wasm: .*bad-var\.json: \.rodata: value\.nope: \.rodata has no variable 'nope'/);
      oneLine(run(`.rodata=${json('bad-type.json', { max_len: 'x' })}`), /^ebpf-wasm: .*bad-type\.json: \.rodata: value\.max_len: const volatile __u32 takes an integer, not the string 'x'$/);
      oneLine(run(`.rodata=${json('list.json', [1])}`), /^ebpf-wasm: .*list\.json: \.rodata is global data: give an object of its variables/);
      oneLine(run(`.rodata=${json('syntax.json', '{ "max_len": ')}`), /^ebpf-wasm: .*syntax\.json: not valid JSON: /);
      oneLine(run(`nope=${json('x.json', [])}`), /^ebpf-wasm: --map nope: .*global_data\.o has no map 'nope' \(it has: \.rodata, /);
      oneLine(run('.rodata'), /^ebpf-wasm: --map: '\.rodata' is not NAME=FILE\.json/);
      oneLine(run(`.rodata=${join(dir, 'absent.json')}`), /^ebpf-wasm: .*absent\.json: cannot read \(no such file\)$/);
      const fixture = join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o');
      oneLine(['test-run', fixture, '--data-in', packet, '--map', `denied_ports=${json('bad-entry.json', [{ key: { proto: 17, port: 70000 }, value: 1 }])}`], /^ebpf-wasm: .*bad-entry\.json: \[0\]\.key\.port: 70000 is out of range for __be16/);
      oneLine(['replay', '--topology', 'examples/lb/topology.json', '--map', `config=${json('c.json', [])}`], /^ebpf-wasm: --map config: with a topology, a map is "object\/map"/);
      oneLine(['replay', '--topology', 'examples/lb/topology.json', '--map', `lb/config=${json('c2.json', [{ key: 0, value: { backendz: 2 } }])}`], /^ebpf-wasm: .*c2\.json: lb\/config\[0\]\.value\.backendz: struct lb_config has no member 'backendz'/);
    });
  });

  test('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
  });

  test('test-run --engine both prints each engine\'s duration, and repeated trace lines once', () => {
    const r = cli(['test-run', join(PROJECT_ROOT, 'examples', 'xdp_ttl.o'), '--data-in', join(PROJECT_ROOT, 'examples', 'udp-ttl1.bin'), '--engine', 'both', '--repeat', '50']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^trace: proto 17: ttl 1 expired, drop \(x50\)\nReturn value: 1, duration \(average\): interpreter \d+ns, JIT \d+ns\nVerified: yes\n$/);
  });

  test('disasm --source interleaves the source lines of BTF line info', () => {
    const r = cli(['disasm', join(PROJECT_ROOT, 'tests', 'fixtures', 'tail_calls.o'), '--source']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('; s->stages_run++; @ tail_calls.c:84');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('      15:\t61 01 00 00 00 00 00 00\tr1 = *(u32 *)(r0 + 0x0)');
    // Without the annotations the listing is llvm-objdump's.
    expect(lines.filter((l) => !l.startsWith('; ')).join('\n')).toBe(cli(['disasm', join(PROJECT_ROOT, 'tests', 'fixtures', 'tail_calls.o')]).stdout);
    expect(cli(['disasm', join(PROJECT_ROOT, 'tests', 'fixtures', 'all_opcodes.o'), '--source']).stderr).toMatch(/no BTF line info/);
  });
});
