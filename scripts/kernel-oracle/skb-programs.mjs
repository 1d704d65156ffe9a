// The small skb programs of the kernel oracle (skb-test-run.mjs), shared with the tests that check
// the same programs without a kernel (tests/runtime/skb*.test.ts). Assembler text; r6 = ctx.

/** Wraps a body that leaves its result in r0 (r6 = ctx) with the prologue and the cb[0]/return epilogue. */
export const program = (type, body) => `
  mov %r6, %r1
  ${body}
out:
  stxw [%r6+48], %r0
  ${type === 'cgroup_skb' ? 'and %r0, 1' : ''}
  exit`;

// Program bodies. Each leaves a u32 result in r0.
export const BODIES = {
  /** r0 = a u32 context field. */
  field: (off) => `ldxw %r0, [%r6+${off}]`,
  /** r0 = the low word of a u64 context field. */
  field64: (off) => `ldxdw %r0, [%r6+${off}]`,
  /** r0 = 1 if `n` bytes fit between data and data_end, then also the byte at data + n - 1 in cb[1]. */
  direct: (n) => `
    mov %r0, 0
    ldxw %r2, [%r6+76]
    ldxw %r3, [%r6+80]
    mov %r4, %r2
    add %r4, ${n}
    jgt %r4, %r3, out
    ldxb %r5, [%r2+${n - 1}]
    stxw [%r6+52], %r5
    mov %r0, 1`,
  /** tc: writes 0xee at data + n - 1 if it fits. */
  directWrite: (n) => `
    mov %r0, 0
    ldxw %r2, [%r6+76]
    ldxw %r3, [%r6+80]
    mov %r4, %r2
    add %r4, ${n}
    jgt %r4, %r3, out
    stb [%r2+${n - 1}], 238
    mov %r0, 1`,
  /** bpf_skb_load_bytes(off, len) into a stack buffer prefilled with 0x5a; cb[1], cb[2] = its first 8 bytes. */
  loadBytes: (off, len) => `
    stdw [%r10-16], 0x5a5a5a5a
    stdw [%r10-8], 0x5a5a5a5a
    mov %r1, %r6
    lddw %r2, ${off}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    call 26
    ldxw %r2, [%r10-16]
    stxw [%r6+52], %r2
    ldxw %r2, [%r10-12]
    stxw [%r6+56], %r2`,
  /** bpf_skb_store_bytes(off, len, flags) of ab ab ab ab ff ff ff ff ... */
  storeBytes: (off, len, flags) => `
    stdw [%r10-16], -1414812757
    stdw [%r10-8], -1414812757
    mov %r1, %r6
    lddw %r2, ${off}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    lddw %r5, ${flags}
    call 9`,
  /** bpf_l3_csum_replace / bpf_l4_csum_replace(off, from, to, flags). */
  csumReplace: (id, off, from, to, flags) => `
    mov %r1, %r6
    lddw %r2, ${off}
    lddw %r3, ${from}
    lddw %r4, ${to}
    lddw %r5, ${flags}
    call ${id}`,
  /** bpf_csum_diff over two stack buffers of 32 bytes (from at -64, to at -32), each a fixed pattern. */
  csumDiff: (fromSize, toSize, seed) => `
    lddw %r1, 0x0123456789abcdef
    stxdw [%r10-64], %r1
    lddw %r1, 0xfedcba9876543210
    stxdw [%r10-56], %r1
    lddw %r1, 0xffffffffffffffff
    stxdw [%r10-48], %r1
    stdw [%r10-40], 0
    lddw %r1, 0x1122334455667788
    stxdw [%r10-32], %r1
    lddw %r1, 0x99aabbccddeeff00
    stxdw [%r10-24], %r1
    stdw [%r10-16], 0
    lddw %r1, 0xffffffff00000001
    stxdw [%r10-8], %r1
    mov %r1, %r10
    add %r1, -64
    mov %r2, ${fromSize}
    mov %r3, %r10
    add %r3, -32
    mov %r4, ${toSize}
    lddw %r5, ${seed}
    call 28`,
  /** r0 = bpf_redirect(ifindex, flags). */
  redirect: (ifindex, flags) => `
    mov %r1, ${ifindex}
    lddw %r2, ${flags}
    call 23`,
  /** r0 = bpf_get_socket_cookie(skb) != 0. */
  cookie: () => `
    mov %r1, %r6
    call 46
    mov %r1, %r0
    mov %r0, 0
    jeq %r1, 0, out
    mov %r0, 1`,
  /** cb[1..4] = four u32 fields of the `struct bpf_sock` __sk_buff->sk points at; r0 = 0xdead without one. */
  sock: (offs) => `
    ldxdw %r7, [%r6+168]
    mov %r0, 57005
    jeq %r7, 0, out
    ${offs.map((o, i) => `ldxw %r1, [%r7+${o}]\n stxw [%r6+${52 + 4 * i}], %r1`).join('\n')}
    ldxh %r0, [%r7+48]`,
  /** bpf_skb_load_bytes_relative(off, len, start) into a stack buffer prefilled with 0x5a; cb[1], cb[2] = its first 8 bytes. */
  loadRelative: (off, len, start) => `
    stdw [%r10-16], 0x5a5a5a5a
    stdw [%r10-8], 0x5a5a5a5a
    mov %r1, %r6
    lddw %r2, ${off}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    lddw %r5, ${start}
    call 68
    ldxw %r2, [%r10-16]
    stxw [%r6+52], %r2
    ldxw %r2, [%r10-12]
    stxw [%r6+56], %r2`,
  /** r0 = a helper taking (ctx, arg). */
  ctxArg: (id, arg) => `
    mov %r1, %r6
    lddw %r2, ${arg}
    call ${id}`,
  /** bpf_csum_level calls in sequence; cb[1..] = each result, r0 = the last. */
  csumLevels: (levels) => levels.map((l, i) => `
    mov %r1, %r6
    mov %r2, ${l}
    call 135
    stxw [%r6+${52 + 4 * Math.min(i, 3)}], %r0`).join('\n'),
  /** r0 = bpf_get_socket_uid(skb). */
  uid: () => `
    mov %r1, %r6
    call 47`,
  /** tc, IPv4/UDP: rewrites the source address 10.0.0.1 to 192.168.1.7 and fixes the checksums with the given flags. */
  natSource: (storeFlags, l3Flags, l4Flags) => `
    stw [%r10-8], 117549248
    mov %r1, %r6
    mov %r2, 26
    mov %r3, %r10
    add %r3, -8
    mov %r4, 4
    mov %r5, ${storeFlags}
    call 9
    ${l3Flags < 0 ? '' : `mov %r1, %r6\n mov %r2, 24\n mov %r3, 16777226\n mov %r4, 117549248\n mov %r5, ${l3Flags}\n call 10`}
    ${l4Flags < 0 ? '' : `mov %r1, %r6\n mov %r2, 40\n mov %r3, 16777226\n mov %r4, 117549248\n mov %r5, ${l4Flags}\n call 11`}`,
  /** tc, IPv4/UDP: the same with a difference from bpf_csum_diff for both checksums (size 0). */
  natSourceByDiff: (l4Flags) => `
    stw [%r10-8], 16777226
    stw [%r10-4], 117549248
    mov %r1, %r10
    add %r1, -8
    mov %r2, 4
    mov %r3, %r10
    add %r3, -4
    mov %r4, 4
    mov %r5, 0
    call 28
    mov %r7, %r0
    mov %r1, %r6
    mov %r2, 26
    mov %r3, %r10
    add %r3, -4
    mov %r4, 4
    mov %r5, 1
    call 9
    mov %r1, %r6
    mov %r2, 24
    mov %r3, 0
    mov %r4, %r7
    mov %r5, 0
    call 10
    mov %r1, %r6
    mov %r2, 40
    mov %r3, 0
    mov %r4, %r7
    mov %r5, ${l4Flags}
    call 11`,
  /**
   * tc, IPv4/UDP: h1 = get_hash_recalc; rewrites addresses and ports (swapped or a port bumped) with
   * store_bytes(flags); h2 = get_hash_recalc. r0 = (h1 == h2) | (h1 != 0) << 1 | (skb->hash == h2) << 2.
   * Linux's hash key is random, so only these relations are compared.
   */
  hashRelations: ({ swapAddrs = false, swapPorts = false, bumpPort = false, flags = 2 }) => `
    mov %r1, %r6
    call 34
    mov %r7, %r0
    mov %r1, %r6
    mov %r2, 26
    mov %r3, %r10
    add %r3, -16
    mov %r4, 12
    call 26
    ldxw %r1, [%r10-16]
    ldxw %r2, [%r10-12]
    stxw [%r10-32], %r${swapAddrs ? 2 : 1}
    stxw [%r10-28], %r${swapAddrs ? 1 : 2}
    ldxh %r1, [%r10-8]
    ldxh %r2, [%r10-6]
    ${bumpPort ? 'add %r2, 256' : ''}
    stxh [%r10-24], %r${swapPorts ? 2 : 1}
    stxh [%r10-22], %r${swapPorts ? 1 : 2}
    stw [%r10-20], 0
    mov %r1, %r6
    mov %r2, 26
    mov %r3, %r10
    add %r3, -32
    mov %r4, 12
    mov %r5, ${flags}
    call 9
    mov %r1, %r6
    call 34
    mov %r8, %r0
    mov %r0, 0
    jne %r7, %r8, l1
    or %r0, 1
  l1:
    jeq %r7, 0, l2
    or %r0, 2
  l2:
    ldxw %r1, [%r6+68]
    jne %r1, %r8, out
    or %r0, 4`,
  /** tc: bpf_set_hash(v), then r0 = get_hash_recalc == skb->hash == v. */
  setHash: (v) => `
    mov %r1, %r6
    lddw %r2, ${v}
    call 48
    mov %r1, %r6
    call 34
    mov %r7, %r0
    ldxw %r1, [%r6+68]
    mov %r0, 0
    jne %r1, %r7, out
    lddw %r2, ${v}
    jne %r1, %r2, out
    mov %r0, 1`,
  /** bpf_set_hash_invalid, then r0 = hash. */
  hashInvalid: () => `
    mov %r1, %r6
    call 41
    ldxw %r0, [%r6+68]`,
  /** Writes the fields a type may write, then r0 = what reads back from them, summed. */
  writes: (type) => {
    const w = [
      'stw [%r6+52], 7', 'stw [%r6+64], -1',
      ...(type !== 'socket_filter' ? ['stw [%r6+8], 305419896', 'stw [%r6+32], 1000', 'stdw [%r6+152], 123456789'] : []),
      ...(type === 'sched_cls' ? ['stw [%r6+44], 3', 'stw [%r6+72], 65535', 'stw [%r6+12], 2'] : []),
    ];
    const r = ['ldxw %r0, [%r6+52]', 'ldxw %r1, [%r6+64]', 'add %r0, %r1',
      ...(type !== 'socket_filter' ? ['ldxw %r1, [%r6+8]', 'add %r0, %r1', 'ldxw %r1, [%r6+32]', 'add %r0, %r1', 'ldxdw %r1, [%r6+152]', 'add %r0, %r1'] : []),
      ...(type === 'sched_cls' ? ['ldxw %r1, [%r6+44]', 'add %r0, %r1', 'ldxw %r1, [%r6+72]', 'add %r0, %r1', 'ldxw %r1, [%r6+12]', 'add %r0, %r1'] : []),
    ];
    return [...w, ...r].join('\n');
  },
  /** cb[1] += 1 and (where allowed) mark += 2 on every run: shows that repeats share one skb. */
  count: (type) => `
    ldxw %r0, [%r6+52]
    add %r0, 1
    stxw [%r6+52], %r0
    ${type !== 'socket_filter' ? 'ldxw %r1, [%r6+8]\n add %r1, 2\n stxw [%r6+8], %r1' : ''}`,
  /** tc: cb[1] += tc_index + tc_classid + queue_mapping as this run reads them, then writes the given values to them. */
  narrow: (tcIndex, classid, queue) => `
    ldxw %r0, [%r6+52]
    ldxw %r1, [%r6+44]
    add %r0, %r1
    ldxw %r1, [%r6+72]
    add %r0, %r1
    ldxw %r1, [%r6+12]
    add %r0, %r1
    stxw [%r6+52], %r0
    lddw %r1, ${tcIndex}
    stxw [%r6+44], %r1
    lddw %r1, ${classid}
    stxw [%r6+72], %r1
    lddw %r1, ${queue}
    stxw [%r6+12], %r1`,
  /** r0 = a legacy packet load (LD_ABS, or LD_IND with r7 = base). */
  ldAbs: (size, off) => `ldabs${size} ${off}`,
  ldInd: (size, base, off) => `lddw %r7, ${base}\n ldind${size} %r7, ${off}`,
};
