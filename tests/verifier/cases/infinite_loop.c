// Rejected: a loop that never changes its state never ends.
#include "common.h"

SEC("xdp")
int infinite_loop(struct xdp_md *ctx)
{
	volatile int spin = 1;

	while (ctx->ingress_ifindex)
		spin = 1;
	return spin ? XDP_PASS : XDP_DROP;
}
