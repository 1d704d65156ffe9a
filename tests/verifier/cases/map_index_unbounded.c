// Rejected: a packet byte indexes an array inside a map value without a bound.
#include "common.h"

struct slots {
	__u64 hits[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slots);
} table SEC(".maps");

SEC("xdp")
int map_index_unbounded(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	struct slots *s;
	__u32 idx;

	if ((void *)(data + 1) > data_end)
		return XDP_PASS;
	idx = data[0];
	s = bpf_map_lookup_elem(&table, &key);
	if (!s)
		return XDP_PASS;
	s->hits[idx]++; /* idx may be up to 255: needs if (idx < 64) */
	return XDP_PASS;
}
