// Rejected: reads the packet without comparing with data_end first (the first example).
#include "common.h"

SEC("xdp")
int pkt_unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;

	return data[0] == 0xff ? XDP_DROP : XDP_PASS;
}
