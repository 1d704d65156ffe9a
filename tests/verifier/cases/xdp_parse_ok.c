// Accepted: Ethernet and IPv4 parsed with every access checked, a per-protocol counter in a map.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} per_proto SEC(".maps");

SEC("xdp")
int xdp_parse_ok(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 key;
	__u64 *count;

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	key = ip->protocol;
	count = bpf_map_lookup_elem(&per_proto, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}
