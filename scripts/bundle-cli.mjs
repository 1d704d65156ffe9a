// Bundles the command line into one file, dist/cli/ebpf-wasm.mjs, the package's `ebpf-wasm` bin.
// Node spends about 120 ms resolving and loading the 230-odd modules of dist/ one by one, a third of
// a short run; one bundled file loads in a fraction of that. binaryen stays outside: it is large,
// loaded only when the JIT compiles (compiled modules come from the disk cache otherwise).
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/cli/ebpf-wasm.mjs`;
await build({
  entryPoints: [`${root}dist/cli/main.js`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['binaryen'],
  // commander is CommonJS: its require() calls of Node's modules need a require in an ES module.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
