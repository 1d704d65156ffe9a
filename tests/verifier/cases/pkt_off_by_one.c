// Rejected: the check proves the Ethernet header is there, the access reads past it.
#include "common.h"

SEC("xdp")
int pkt_off_by_one(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	return ip->protocol == IPPROTO_UDP ? XDP_PASS : XDP_DROP;
}
