// Per-socket traffic counters in socket-local storage: a cgroup_skb/egress program counts the
// packets and bytes each local socket sends, a cgroup_skb/ingress program what it receives, each in
// the socket's own `struct sock_stats` (BPF_MAP_TYPE_SK_STORAGE: made on the socket's first packet,
// freed when it closes, no key to manage). With a byte quota configured, egress drops what a socket
// sends past it (verdict 0) and counts the drops.
//
//   npx ebpf-wasm replay --topology examples/sockstat/topology.json --dump-maps
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sock_stats {
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_packets;
	__u64 rx_bytes;
	/* Packets egress dropped: the socket was over its quota. */
	__u64 tx_dropped;
};

struct config {
	/* Bytes (from the IP header) a socket may send; 0: count only. */
	__u64 tx_quota_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_stats);
} sock_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

/* The skb's socket's counters, made zeroed on first use; NULL without a full socket. */
static __always_inline struct sock_stats *stats_of(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	return bpf_sk_storage_get(&sock_stats, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
}

SEC("cgroup_skb/egress")
int count_tx(struct __sk_buff *skb)
{
	struct sock_stats *stats = stats_of(skb);
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);

	if (!stats)
		return 1;
	if (cfg && cfg->tx_quota_bytes && stats->tx_bytes + skb->len > cfg->tx_quota_bytes) {
		__sync_fetch_and_add(&stats->tx_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&stats->tx_packets, 1);
	__sync_fetch_and_add(&stats->tx_bytes, skb->len);
	return 1;
}

SEC("cgroup_skb/ingress")
int count_rx(struct __sk_buff *skb)
{
	struct sock_stats *stats = stats_of(skb);

	if (stats) {
		__sync_fetch_and_add(&stats->rx_packets, 1);
		__sync_fetch_and_add(&stats->rx_bytes, skb->len);
	}
	return 1;
}

char _license[] SEC("license") = "GPL";
