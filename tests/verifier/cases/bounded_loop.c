// Accepted: a loop with a constant bound (not unrolled) sums an array in a map value.
#include "common.h"

struct row {
	__u32 cells[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct row);
} rows SEC(".maps");

SEC("xdp")
int bounded_loop(struct xdp_md *ctx)
{
	__u32 key = 0, sum = 0;
	struct row *r = bpf_map_lookup_elem(&rows, &key);

	if (!r)
		return XDP_PASS;
#pragma nounroll
	for (int i = 0; i < 16; i++)
		sum += r->cells[i];
	return sum > ctx->ingress_ifindex ? XDP_DROP : XDP_PASS;
}
