// `ebpf-wasm control`: the record layouts of the control maps' subsystems (an extension), as C, the
// start of which a program's value type declares, or as JSON.
import { controlLayouts, describeControl, Runtime } from '../index.js';

export function controlCommand(options: { json?: boolean }): void {
  const layouts = controlLayouts(new Runtime().control);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(layouts.map((l) => ({ map_extra: l.subsystem, key: l.key, name: l.layout.name, size: l.layout.size, fields: l.layout.fields })), null, 2)}\n`);
    return;
  }
  process.stdout.write(`${layouts.map((l) => describeControl(l.subsystem, l.layout)).join('\n\n')}\n`);
}
