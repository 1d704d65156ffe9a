// Callback cost: bpf_loop over 10,000 iterations, each callback adding its index to a sum.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ITERATIONS 10000

static long add_index(__u64 index, void *ctx)
{
	*(__u64 *)ctx += index;
	return 0;
}

SEC("xdp")
int loop(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(ITERATIONS, add_index, &sum, 0);
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
