// Rejected: const globals live in a read-only map; the program writes one through a pointer.
#include "common.h"

const volatile __u32 threshold = 100;

SEC("xdp")
int rodata_write(struct xdp_md *ctx)
{
	__u32 *t = (__u32 *)&threshold;

	/* Hide where t points, so the compiler cannot drop the store as undefined behaviour. */
	asm volatile("" : "+r"(t));
	*t = ctx->ingress_ifindex;
	return XDP_PASS;
}
