// Runs once before every test file, in vitest's main process: says once, visibly, when the shared
// bpf_conformance suite is absent and its tests are skipped (each test file then skips quietly),
// and fails the run in CI, where the suite must be there.
import { existsSync } from 'node:fs';
import { SUITE_DIR } from './suite.js';

export default function setup(): void {
  if (existsSync(SUITE_DIR)) return;
  if (process.env.CI === 'true') throw new Error(`bpf_conformance suite not found at ${SUITE_DIR} (required in CI)`);
  process.stdout.write(`\nSKIPPED: bpf_conformance suite not found at ${SUITE_DIR}; the tests that run it are skipped (set BPF_CONFORMANCE_TESTS to point at it)\n\n`);
}
