// Accepted: an XDP program copies the IPv4 header out through bpf_dynptr_read, decrements the TTL
// and writes it back with bpf_dynptr_write (helpers over the same dynptr as the kfuncs).
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_read_write(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	struct iphdr ip;

	if (bpf_dynptr_from_xdp(ctx, 0, &ptr))
		return XDP_ABORTED;
	if (bpf_dynptr_read(&ip, sizeof(ip), &ptr, sizeof(struct ethhdr), 0))
		return XDP_PASS;
	ip.ttl--;
	if (bpf_dynptr_write(&ptr, sizeof(struct ethhdr), &ip, sizeof(ip), 0))
		return XDP_ABORTED;
	return XDP_TX;
}
