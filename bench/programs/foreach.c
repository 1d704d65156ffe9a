// Callback cost: bpf_for_each_map_elem over an array of 1,000 elements, each callback adding the
// element's value to a sum.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1000);
	__type(key, __u32);
	__type(value, __u64);
} elements SEC(".maps");

static long add_value(void *map, __u32 *key, __u64 *value, void *ctx)
{
	*(__u64 *)ctx += *value + *key;
	return 0;
}

SEC("xdp")
int foreach(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_for_each_map_elem(&elements, add_value, &sum, 0);
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
