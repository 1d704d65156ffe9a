// Rejected: bpf_dynptr_slice gives read-only memory; writes need bpf_dynptr_slice_rdwr.
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_rdonly_write(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	struct iphdr buf, *ip;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	ip = bpf_dynptr_slice(&ptr, sizeof(struct ethhdr), &buf, sizeof(buf));
	if (!ip)
		return XDP_PASS;
	ip->ttl--;
	return XDP_TX;
}
