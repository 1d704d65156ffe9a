// Rejected: a helper may not fill memory that holds a dynptr (bpf_dynptr_read into the dynptr itself).
#include "common.h"
#include "dynptr.h"

SEC("xdp")
int dynptr_helper_overwrite(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	return bpf_dynptr_read(&ptr, 8, &ptr, 0, 0) ? XDP_PASS : XDP_DROP;
}
