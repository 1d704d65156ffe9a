// BPF_MAP_TYPE_STACK (23): last in, first out. The ring itself is in queue-stack.ts.
import type { GuestMemory } from '../runtime/memory.js';
import { MapType } from './constants.js';
import type { MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';
import { checkQueueStackSpec, QueueStackMap } from './queue-stack.js';

/** BPF_MAP_TYPE_STACK (23): last in, first out. */
export class StackMap extends QueueStackMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, true);
  }
}

/** Registry entry for BPF_MAP_TYPE_STACK. */
export const stackKind: MapKind = {
  type: MapType.STACK,
  name: 'stack',
  check: checkQueueStackSpec,
  create: (memory, spec, options) => new StackMap(memory, spec, options),
};
