// The cost of one run: an XDP program that returns XDP_PASS and does nothing else.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
