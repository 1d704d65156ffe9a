// Rejected: a store over the dynptr's stack slots destroys it; the slice after it has no dynptr.
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_overwritten(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	struct ethhdr buf, *eth;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	*(volatile __u64 *)&ptr = 0;
	eth = bpf_dynptr_slice(&ptr, 0, &buf, sizeof(buf));
	return eth && eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}
