// Rejected: the slice's size (buffer__szk) must be a known constant.
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_var_size(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	__u8 buf[16], *p;
	__u32 len = ctx->ingress_ifindex & 15;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, buf, len);
	return p ? XDP_DROP : XDP_PASS;
}
