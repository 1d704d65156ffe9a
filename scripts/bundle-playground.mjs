// Builds the playground (dist/playground/): the page, its script bundled with esbuild from tsc's
// output (binaryen in a chunk of its own, loaded only when the JIT runs), and the shipped examples
// with an index of them. Run by `npm run build`; `ebpf-wasm playground` serves the folder.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'playground');
rmSync(join(out, 'assets'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'dist', 'playground', 'main.js')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  // binaryen's build has a branch for Node (node:module) that a browser never takes.
  external: ['node:*'],
  outdir: join(out, 'assets'),
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join(root, 'playground', file), join(out, file));

// Every example folder, and the objects beside them (examples/xdp_ttl.o): what the page offers.
const examplesDir = join(root, 'examples');
const index = [];
for (const name of readdirSync(examplesDir).sort()) {
  const dir = join(examplesDir, name);
  if (!statSync(dir).isDirectory()) continue;
  const files = readdirSync(dir).filter((f) => /\.(o|pcap|pcapng|json|mjs)$/.test(f));
  mkdirSync(join(out, 'examples', name), { recursive: true });
  for (const f of files) copyFileSync(join(dir, f), join(out, 'examples', name, f));
  index.push({ name, ...(files.includes('topology.json') ? { topology: 'topology.json' } : {}), files });
}
writeFileSync(join(out, 'examples', 'index.json'), JSON.stringify(index, null, 1));
