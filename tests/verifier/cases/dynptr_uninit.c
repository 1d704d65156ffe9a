// Rejected: a slice of a dynptr that was never initialised (bpf_dynptr_from_xdp not called).
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	struct ethhdr buf, *eth;

	eth = bpf_dynptr_slice(&ptr, 0, &buf, sizeof(buf));
	return eth && eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}
