// The small XDP programs of the kernel oracle (xdp-test-run.mjs), shared with the tests that check
// the same programs without a kernel (tests/runtime/xdp.test.ts). Assembler text.

// Programs. Each keeps the context in r6 and returns a helper's result (a u32 retval), so both the
// errno a helper returns and what it did to the frame (data_out) are compared.
export const PROGRAMS = {
  pass: () => `mov %r0, 2\n exit`,
  head: (d) => `mov %r6, %r1\n mov %r2, ${d}\n call 44\n exit`,
  meta: (d) => `mov %r6, %r1\n mov %r2, ${d}\n call 54\n exit`,
  tail: (d) => `mov %r6, %r1\n mov %r2, ${d}\n call 65\n exit`,
  // Grow the metadata, write a word into it (bounds-checked against data), then move the head.
  metaHead: (m, h) => `
    mov %r6, %r1
    mov %r2, ${m}
    call 54
    jne %r0, 0, out
    ldxw %r2, [%r6+8]
    ldxw %r3, [%r6+0]
    mov %r4, %r2
    add %r4, 4
    jgt %r4, %r3, out
    stw [%r2+0], 287454020
    mov %r1, %r6
    mov %r2, ${h}
    call 44
  out:
    exit`,
  // Load `len` bytes at `off` to the stack, then store them at the packet's start.
  loadStore: (off, len) => `
    mov %r6, %r1
    mov %r2, ${off}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    call 189
    jne %r0, 0, out
    mov %r1, %r6
    mov %r2, 0
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    call 190
  out:
    exit`,
  // Store `len` bytes of ab ab ab ab ff ff ff ff ... at `off`.
  store: (off, len) => `
    mov %r6, %r1
    stdw [%r10-16], -1414812757
    stdw [%r10-8], -1414812757
    mov %r2, ${off}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    call 190
    exit`,
  // bpf_xdp_get_buff_len, and the linear length (data_end - data) in the high half.
  buffLen: () => `
    mov %r6, %r1
    call 188
    ldxw %r2, [%r6+4]
    ldxw %r3, [%r6+0]
    sub %r2, %r3
    lsh %r2, 16
    or %r0, %r2
    exit`,
  // Adjust the tail by `d`, then report bpf_xdp_get_buff_len (or the helper's errno).
  tailLen: (d) => `
    mov %r6, %r1
    mov %r2, ${d}
    call 65
    jne %r0, 0, out
    mov %r1, %r6
    call 188
  out:
    exit`,
  // The context fields a program sees: ingress_ifindex | rx_queue_index << 8 | metadata length << 16.
  fields: () => `
    ldxw %r0, [%r1+12]
    ldxw %r2, [%r1+16]
    lsh %r2, 8
    or %r0, %r2
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+8]
    sub %r2, %r3
    lsh %r2, 16
    or %r0, %r2
    exit`,
};
