// What build.sh left for the measuring scripts: where it is, which programs are of the types this
// runtime runs, and the kernel's verdicts (and test runs) on them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** build.sh's output folder: objects/*.o and kernel-verdicts.jsonl. */
export const WORK = process.env.WORK ?? '/work/verifier-scratch/selftests';

/** Section prefixes of the program types this runtime runs. */
export const OURS = /^\??(socket|tc|tcx|xdp|classifier|cgroup\/skb|cgroup_skb)(\/|$)/;

/** The path of a selftest object. */
export const objectPath = (file) => join(WORK, 'objects', file);

/** Every line of kernel-verdicts.jsonl: one program, its annotations and the kernel's verdict. */
export function kernelVerdicts() {
  return readFileSync(join(WORK, 'kernel-verdicts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}
