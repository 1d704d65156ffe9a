#!/usr/bin/env node
// Writes a capture of generated traffic: deterministic in the seed (same arguments, same bytes).
// Uses the built library (`npm run build` first). Example:
//   node scripts/gen-traffic.mjs --seed 1 --packets 1000000 --mix tcp=60,udp=25,icmp=10,malformed=5 --ipv6 0.2 --vlan 0.1 -o traffic.pcap
import { parseArgs } from 'node:util';
import { createCaptureFileWriter, randomTraffic } from '../dist/index.js';

const USAGE = `usage: gen-traffic.mjs -o FILE [--seed N] [--packets N] [--mix tcp=60,udp=25,icmp=10,malformed=5]
                       [--ipv6 SHARE] [--vlan SHARE] [--max-payload BYTES] [--concurrency FLOWS]
                       [--format pcap|pcapng] [--nanoseconds]
Flow kinds left out of --mix get weight 0; without --mix the default is the one shown.
--ipv6 and --vlan are shares of flows (0 to 1; defaults 0.2 and 0.1); --max-payload bounds TCP and
UDP payloads (default 1000; 40 gives 60-100-byte frames, as benchmarks want).
The format defaults to the file's extension (.pcapng for pcapng, pcap otherwise).`;

function fail(message) {
  process.stderr.write(`gen-traffic: ${message}\n${USAGE}\n`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      out: { type: 'string', short: 'o' },
      seed: { type: 'string', default: '1' },
      packets: { type: 'string', default: '1000' },
      mix: { type: 'string' },
      ipv6: { type: 'string' },
      vlan: { type: 'string' },
      'max-payload': { type: 'string' },
      concurrency: { type: 'string' },
      format: { type: 'string' },
      nanoseconds: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!values.out) fail('-o FILE is required');

/** A non-negative number from an option, or a usage error naming it. */
function number(name, text, { integer = false, max = Infinity } = {}) {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < 0 || n > max || (integer && !Number.isInteger(n))) fail(`--${name} ${text}: not ${integer ? 'a whole number' : 'a number'} in [0, ${max}]`);
  return n;
}

const mix = {};
for (const part of (values.mix ?? '').split(',').filter(Boolean)) {
  const [kind, weight] = part.split('=');
  if (!['tcp', 'udp', 'icmp', 'malformed'].includes(kind) || weight === undefined) fail(`--mix: '${part}' is not kind=weight with kind tcp, udp, icmp or malformed`);
  mix[kind] = number('mix', weight);
}
if (values.mix) for (const kind of ['tcp', 'udp', 'icmp', 'malformed']) mix[kind] ??= 0;
if (values.ipv6 !== undefined) mix.ipv6 = number('ipv6', values.ipv6, { max: 1 });
if (values.vlan !== undefined) mix.vlan = number('vlan', values.vlan, { max: 1 });
if (values['max-payload'] !== undefined) mix.maxPayload = number('max-payload', values['max-payload'], { integer: true, max: 9000 });

const format = values.format ?? (values.out.endsWith('.pcapng') ? 'pcapng' : 'pcap');
if (format !== 'pcap' && format !== 'pcapng') fail(`--format ${format}: pcap or pcapng`);
const packets = number('packets', values.packets, { integer: true });
const options = {
  seed: number('seed', values.seed, { integer: true, max: 0xffffffff }),
  packets,
  mix,
  ...(values.concurrency !== undefined ? { concurrency: number('concurrency', values.concurrency, { integer: true, max: 1e6 }) } : {}),
};

const started = performance.now();
const writer = createCaptureFileWriter(values.out, format, { precision: values.nanoseconds ? 'nanoseconds' : 'microseconds', interfaces: [{ name: 'eth0' }] });
try {
  for (const frame of randomTraffic(options)) writer.write(frame);
  writer.close();
} catch (error) {
  writer.abort();
  throw error;
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${values.out}: ${packets} packets (${format}, seed ${options.seed}) in ${seconds.toFixed(1)} s\n`);
