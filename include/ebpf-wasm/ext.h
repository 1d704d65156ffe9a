/* SPDX-License-Identifier: MIT */
/*
 * ebpf-wasm's extensions to eBPF (DESIGN.md, "Extensions"): map types and helpers from BPF
 * proposals that Linux did not merge, which this runtime implements. Their numbers are the
 * runtime's own and will not change. Include after <linux/bpf.h> and <bpf/bpf_helpers.h>.
 *
 * Programs that use them load in ebpf-wasm only: Linux refuses the map types and helper ids.
 */
#ifndef __EBPF_WASM_EXT_H
#define __EBPF_WASM_EXT_H

#include <linux/types.h>

/* ---- Map types ---- */

/*
 * A flow map: each entry has two keys (the forward and the reverse tuple of a connection, which
 * need not mirror each other, e.g. across NAT) and one shared value. A lookup by either key gives
 * the same value; a delete by either key removes the entry. max_entries counts entries (pairs).
 * Use bpf_map_lookup_elem/update_elem (BPF_EXIST)/delete_elem with either key, and the helpers below.
 */
#define BPF_MAP_TYPE_FLOW 0x1000

/*
 * A control map: lookups and updates reach a runtime subsystem instead of stored data. map_extra
 * picks the subsystem (the CTRL_* values below); the runtime describes each value's layout as BTF.
 * A lookup copies at most the value size the map was declared with (the rest zero-filled), so a
 * program built against an older layout keeps working; an update changes the writable fields only.
 */
#define BPF_MAP_TYPE_CONTROL 0x1001

/* Control subsystems (map_extra) and their records. `ebpf-wasm control` prints the layouts. */
#define BPF_CTRL_XDP_ATTR 1   /* key __u32 ifindex; value struct bpf_ctrl_xdp_attr */
#define BPF_CTRL_PROG_STATS 2 /* key __u32 program id; value struct bpf_ctrl_prog_stats (read-only: -EACCES) */
#define BPF_CTRL_SOCK_ATTR 3  /* key __u64 socket cookie; value struct bpf_sock (writable: mark, priority) */

struct bpf_ctrl_xdp_attr {
	__u32 ifindex;
	__u32 mtu;           /* writable */
	__u32 xdp_prog_id;
	__u32 egress_prog_id;
	__u32 rx_queues;
	__u32 tx_queues;
	__u32 xsk_ring_size; /* writable */
	__u32 flags;         /* IFF_* */
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_dropped;
	__u64 tx_dropped;
};

struct bpf_ctrl_prog_stats {
	__u32 id;
	__u32 type;          /* BPF_PROG_TYPE_* */
	__u64 run_cnt;
	__u64 run_time_ns;
	__u64 insns_executed; /* counted by the interpreter; 0 on the JIT */
	__u32 jited;
	__u32 insn_cnt;
};

/* ---- The flow map's helpers ---- */

/* Inserts (key_a, key_b) -> value with BPF_ANY or BPF_NOEXIST (BPF_ANY on the very same pair updates its value).
 * Returns 0, -EEXIST (either key present), -E2BIG (full), -EINVAL (other flags, or equal keys). */
static long (* const bpf_flow_map_insert)(void *map, const void *key_a, const void *key_b, const void *value, __u64 flags) = (void *)0x10010;
/* The shared value for key (either side), or NULL; *dir gets 0 when key matched key_a, 1 when key_b. */
static void *(* const bpf_flow_map_lookup)(void *map, const void *key, __u32 *dir) = (void *)0x10011;
/* Copies the other side's key of the entry holding key into peer_key. Returns 0 or -ENOENT. */
static long (* const bpf_flow_map_peer)(void *map, const void *key, void *peer_key) = (void *)0x10012;

/* ---- The XDP metadata key/value store ---- */

/*
 * Small typed values stored with an XDP frame (keys 0..63, values of 2, 4 or 8 bytes), which travel
 * with it through XDP_REDIRECT into devmap and cpumap programs and the egress hook. The store takes
 * room from the headroom that bpf_xdp_adjust_head could use; data_meta works beside it.
 */
#define BPF_XDP_KV_KEYS 64
/* Receive hints the runtime fills in (read-only; bpf_xdp_kv_get returns -ENOENT when unavailable). */
#define BPF_XDP_KV_RX_HASH ((1ULL << 32) | 1)      /* __u32: the flow's hash */
#define BPF_XDP_KV_VLAN_TCI ((1ULL << 32) | 2)     /* __u16: the outer 802.1Q tag */
#define BPF_XDP_KV_RX_TIMESTAMP ((1ULL << 32) | 3) /* __u64: receive time in ns (the capture's) */

/* Copies key's value (len must be its size) into val. Returns 0, -ENOENT (absent), -EINVAL (bad key or len). */
static long (* const bpf_xdp_kv_get)(struct xdp_md *ctx, __u64 key, void *val, __u32 len) = (void *)0x10001;
/* Stores len (2, 4 or 8) bytes under key; flags must be 0. Returns 0, -EINVAL (bad key, len or flags, or a
 * present key of another size), -ENOSPC (no headroom left). */
static long (* const bpf_xdp_kv_set)(struct xdp_md *ctx, __u64 key, const void *val, __u32 len, __u64 flags) = (void *)0x10002;
/* Removes key. Returns 0 or -ENOENT. */
static long (* const bpf_xdp_kv_delete)(struct xdp_md *ctx, __u64 key) = (void *)0x10003;

#endif /* __EBPF_WASM_EXT_H */
