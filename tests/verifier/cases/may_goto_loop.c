// Accepted: a loop bounded by may_goto (clang's can_loop) counts up to a limit the program reads;
// its counter is not used to address memory, so its states converge.
#include "common.h"
#include <stdbool.h>

#define can_loop ({ __label__ l_break, l_continue; bool ret = true; \
	asm volatile goto("may_goto %l[l_break]" :::: l_break); goto l_continue; \
	l_break: ret = false; l_continue:; ret; })

SEC("xdp")
int may_goto_loop(struct xdp_md *ctx)
{
	__u32 limit = ctx->ingress_ifindex;
	__u32 n = 0, sum = 0;

	while (can_loop) {
		if (n >= limit)
			break;
		sum += n * 3;
		n++;
	}
	return sum & 1 ? XDP_DROP : XDP_PASS;
}
