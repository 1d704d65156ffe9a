// The XDP metadata key/value store (DESIGN.md's layout): set/get/delete against a model over random
// operations, the errnos of bad use, the headroom it takes from bpf_xdp_adjust_head and _meta, the
// receive hints, and the helpers from programs on both engines.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { PacketFrame } from '../../runtime/packet-frame.js';
import { KV_HEADER_SIZE, MetadataKeys, RxHint } from '../../runtime/metadata-store.js';
import { Errno } from '../../maps/constants.js';
import { XdpRunner } from '../../runtime/xdp.js';
import { createExecutor } from '../../runtime/engine.js';
import { helperTable } from '../../helpers/table.js';
import { assemble } from '../../isa/assembler.js';
import { buildPacket } from '../../net/packets.js';
import { prng } from '../support/prng.js';

const EINVAL = -Errno.EINVAL;
const ENOENT = -Errno.ENOENT;
const ENOSPC = -Errno.ENOSPC;

/** A frame and a scratch block to pass values through. */
function setup() {
  const memory = new GuestMemory();
  const frame = PacketFrame.create(memory, buildPacket());
  const scratch = memory.allocate(16, 'scratch');
  const put = (value: bigint, len: number) => {
    for (let i = 0; i < len; i++) memory.bytes[scratch.start + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    return scratch.start;
  };
  const read = (len: number) => [...memory.bytes.subarray(scratch.start, scratch.start + len)].reduceRight((a, b) => (a << 8n) | BigInt(b), 0n);
  return { memory, frame, scratch, put, read };
}

describe('the metadata store', () => {
  test('set, get and delete agree with a model over random operations; values pack in key order', () => {
    const { frame, put, read } = setup();
    const random = prng(0x6b76);
    const model = new Map<number, { len: number; value: bigint }>();
    for (let i = 0; i < 4000; i++) {
      const key = Math.floor(random() * 64);
      const len = [2, 4, 8][Math.floor(random() * 3)]!;
      const value = BigInt(Math.floor(random() * 2 ** 32)) & ((1n << BigInt(8 * len)) - 1n);
      const op = random();
      const known = model.get(key);
      if (op < 0.5) {
        // The headroom below data_meta holds 216 bytes: the header and the values must fit.
        const used = model.size ? KV_HEADER_SIZE + [...model.values()].reduce((a, v) => a + v.len, 0) : 0;
        const full = !known && (used || KV_HEADER_SIZE) + len > 216;
        const expected = known && known.len !== len ? EINVAL : full ? ENOSPC : 0;
        expect(frame.kvSet(key, put(value, len), len, 0)).toBe(expected);
        if (expected === 0) model.set(key, { len, value });
      } else if (op < 0.8) {
        const result = frame.kvGet(key, put(0n, 8), len);
        expect(result).toBe(!known ? ENOENT : known.len !== len ? EINVAL : 0);
        if (result === 0) expect(read(len)).toBe(known!.value);
      } else {
        expect(frame.kvDelete(key)).toBe(known ? 0 : ENOENT);
        model.delete(key);
      }
      const size = [...model.values()].reduce((a, v) => a + v.len, 0);
      expect(frame.storeSize).toBe(model.size ? KV_HEADER_SIZE + size : 0);
    }
    expect(frame.kvEntries(false)).toEqual([...model].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, v.value]));
  });

  test('the layout: a 16-byte header of 2-bit size codes, then the values in key order', () => {
    const { frame, memory, put } = setup();
    expect(frame.kvSet(5, put(0x1122334455667788n, 8), 8, 0)).toBe(0);
    expect(frame.kvSet(1, put(0xaabbn, 2), 2, 0)).toBe(0);
    expect(frame.kvSet(63, put(0xdeadbeefn, 4), 4, 0)).toBe(0);
    const store = [...memory.bytes.subarray(frame.storeStart, frame.storeStart + frame.storeSize)];
    // Key 1: code 1 at bits 2-3; key 5: code 3 at bits 10-11; key 63: code 2 at bits 126-127.
    expect(store.slice(0, 16)).toEqual([0x04, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    expect(store.slice(16)).toEqual([0xbb, 0xaa, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xef, 0xbe, 0xad, 0xde]);
  });

  test.for([
    { name: 'a key past 63', call: (f: PacketFrame, at: number) => f.kvSet(64, at, 4, 0), errno: EINVAL },
    { name: 'a length other than 2, 4 or 8', call: (f: PacketFrame, at: number) => f.kvSet(3, at, 3, 0), errno: EINVAL },
    { name: 'flags', call: (f: PacketFrame, at: number) => f.kvSet(3, at, 4, 1), errno: EINVAL },
    { name: 'setting a receive hint', call: (f: PacketFrame, at: number) => f.kvSet(RxHint.RX_HASH, at, 4, 0), errno: EINVAL },
    { name: 'deleting a receive hint', call: (f: PacketFrame) => f.kvDelete(RxHint.RX_HASH), errno: EINVAL },
    { name: 'getting an unknown key above the header', call: (f: PacketFrame, at: number) => f.kvGet(2 ** 40, at, 8), errno: EINVAL },
    { name: 'a hint of the wrong length', call: (f: PacketFrame, at: number) => f.kvGet(RxHint.RX_HASH, at, 8), errno: EINVAL },
    { name: 'a hint on a frame that was not received (a test run)', call: (f: PacketFrame, at: number) => f.kvGet(RxHint.RX_HASH, at, 4), errno: ENOENT },
    { name: 'deleting an absent key', call: (f: PacketFrame) => f.kvDelete(9), errno: ENOENT },
  ])('bad use is $errno: $name', ({ call, errno }) => {
    const { frame, scratch } = setup();
    expect(call(frame, scratch.start)).toBe(errno);
    expect(frame.storeSize).toBe(0);
  });

  test('the store takes headroom from adjust_head and adjust_meta, and -ENOSPC when none is left', () => {
    const { frame, put } = setup();
    const room = frame.data - frame.headLimit; // 256 - 40
    expect(room).toBe(216);
    expect(frame.kvSet(0, put(1n, 8), 8, 0)).toBe(0);
    expect(frame.data - frame.headLimit).toBe(216 - 24);
    // Metadata works beside the store, below data and above it.
    expect(frame.adjustMeta(-32)).toBe(0);
    expect(frame.adjustHead(-(216 - 24 - 32) - 4)).toBe(EINVAL);
    expect(frame.adjustHead(-(216 - 24 - 32))).toBe(0);
    expect(frame.kvSet(1, put(2n, 2), 2, 0)).toBe(ENOSPC);
    expect(frame.adjustHead(16)).toBe(0);
    expect(frame.kvSet(1, put(2n, 2), 2, 0)).toBe(0);
    // Deleting every key gives the whole headroom back.
    expect(frame.kvDelete(0)).toBe(0);
    expect(frame.kvDelete(1)).toBe(0);
    expect(frame.storeSize).toBe(0);
  });

  test('receive hints come from the frame as it was received: its flow hash, outer VLAN tag and the capture time', () => {
    const { frame, put, read, memory } = setup();
    const tagged = buildPacket({ vlans: [0x123] });
    frame.received(tagged, 1_800_000_000, 5);
    expect(frame.kvGet(RxHint.VLAN_TCI, put(0n, 2), 2)).toBe(0);
    expect(read(2)).toBe(0x123n);
    expect(frame.kvGet(RxHint.RX_TIMESTAMP, put(0n, 8), 8)).toBe(0);
    expect(read(8)).toBe(1_800_000_000_000_000_005n);
    expect(frame.kvGet(RxHint.RX_HASH, put(0n, 4), 4)).toBe(0);
    expect(read(4)).not.toBe(0n);
    const plain = PacketFrame.create(memory, buildPacket());
    plain.received(buildPacket(), 0, 0);
    expect(plain.kvGet(RxHint.VLAN_TCI, put(0n, 2), 2)).toBe(ENOENT);
  });

  test('names for keys: registered once, both ways; the hints are named already', () => {
    const keys = new MetadataKeys();
    expect(keys.register('packet_id', 12)).toBe(12);
    expect(keys.key('packet_id')).toBe(12);
    expect(keys.nameOf(RxHint.RX_HASH)).toBe('rx_hash');
    expect(() => keys.register('other', 12)).toThrow("metadata key 12 is 'packet_id' already");
    expect(() => keys.register('packet_id', 13)).toThrow("metadata key name 'packet_id' is key 12 already");
    expect(() => keys.register('x', 64)).toThrow(/must be an integer from 0 to 63/);
    expect(keys.describe([[12, 42n], [3, 7n], [RxHint.RX_HASH, 0xabcn]])).toBe('packet_id=42 key3=7 rx_hash=0xabc');
  });
});

describe.each(['interp', 'jit'] as const)('the store from programs on %s', (engine) => {
  test('bpf_xdp_kv_set and _get through the helpers; the store is not part of data_out', async () => {
    const memory = new GuestMemory();
    const runner = new XdpRunner(memory);
    // kv_set(ctx, 7, &0x1234abcd, 4, 0); then kv_get(ctx, 7, fp-16, 4) into r0's low bits.
    const exec = await createExecutor(assemble(`
      mov %r6, %r1
      stw [%r10-8], 305441741
      mov %r2, 7
      mov %r3, %r10
      add %r3, -8
      mov %r4, 4
      mov %r5, 0
      call 65538
      jne %r0, 0, out
      mov %r1, %r6
      mov %r2, 7
      mov %r3, %r10
      add %r3, -16
      mov %r4, 4
      call 65537
      jne %r0, 0, out
      ldxw %r0, [%r10-16]
    out:
      exit`), engine, { memory, helpers: helperTable(runner.helpers) });
    const packet = buildPacket();
    const r = runner.testRun(exec, { dataIn: packet });
    expect(r.retval).toBe(0x1234abcd);
    expect(r.dataOut).toEqual(packet);
    exec.dispose();
  });
});
