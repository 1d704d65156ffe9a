// A tc egress rate counter: counts the packets and bytes a host sends to each destination address,
// measures each destination's rate over one-second windows (bpf_ktime_get_ns, which follows the
// capture's timestamps in a replay), and drops (TC_ACT_SHOT) what exceeds the configured limit of
// bytes per second to one destination. Frames that are not IP go out uncounted.
//
//   npx ebpf-wasm replay examples/tc-counter/rate.o --pcap examples/tc-counter/traffic.pcap --dump-maps
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NS_PER_SEC 1000000000ULL

struct dest_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

struct dest_stats {
	__u64 packets;
	__u64 bytes;
	__u64 dropped;
	/* The current one-second window. */
	__u64 window_start_ns;
	__u64 window_bytes;
	/* The most bytes seen in one window. */
	__u64 peak_bytes_per_sec;
};

struct config {
	/* Bytes per second one destination may receive; 0: count only. */
	__u64 limit_bytes_per_sec;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dest_key);
	__type(value, struct dest_stats);
} destinations SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

SEC("tc/egress")
int tc_rate(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct dest_key key = {};
	struct dest_stats *st;
	struct config *cfg;
	__u32 zero = 0;
	__u64 now;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return TC_ACT_OK;
		key.family = 4;
		__builtin_memcpy(key.addr, &ip->daddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return TC_ACT_OK;
		key.family = 6;
		__builtin_memcpy(key.addr, &ip6->daddr, 16);
	} else {
		return TC_ACT_OK;
	}
	now = bpf_ktime_get_ns();
	st = bpf_map_lookup_elem(&destinations, &key);
	if (!st) {
		struct dest_stats fresh = { .window_start_ns = now };
		bpf_map_update_elem(&destinations, &key, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&destinations, &key);
		if (!st)
			return TC_ACT_OK;
	}
	if (now - st->window_start_ns >= NS_PER_SEC) {
		st->window_start_ns = now;
		st->window_bytes = 0;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && cfg->limit_bytes_per_sec && st->window_bytes + skb->len > cfg->limit_bytes_per_sec) {
		if (!st->dropped)
			bpf_printk("rate limit: dropping to a destination over %llu bytes/s", cfg->limit_bytes_per_sec);
		st->dropped++;
		return TC_ACT_SHOT;
	}
	st->packets++;
	st->bytes += skb->len;
	st->window_bytes += skb->len;
	if (st->window_bytes > st->peak_bytes_per_sec)
		st->peak_bytes_per_sec = st->window_bytes;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
