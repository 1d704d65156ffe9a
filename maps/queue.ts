// BPF_MAP_TYPE_QUEUE (22): first in, first out. The ring itself is in queue-stack.ts.
import type { GuestMemory } from '../runtime/memory.js';
import { MapType } from './constants.js';
import type { MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';
import { checkQueueStackSpec, QueueStackMap } from './queue-stack.js';

/** BPF_MAP_TYPE_QUEUE (22): first in, first out. */
export class QueueMap extends QueueStackMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
  }
}

/** Registry entry for BPF_MAP_TYPE_QUEUE. */
export const queueKind: MapKind = {
  type: MapType.QUEUE,
  name: 'queue',
  check: checkQueueStackSpec,
  create: (memory, spec, options) => new QueueMap(memory, spec, options),
};
