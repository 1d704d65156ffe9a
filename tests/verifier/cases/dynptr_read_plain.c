// Rejected: the dynptr's bytes read as plain stack.
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_read_plain(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	return *(volatile __u64 *)&ptr == 0 ? XDP_DROP : XDP_PASS;
}
