// Rejected: XDP programs may not write their context (data is moved with bpf_xdp_adjust_head).
#include "common.h"

SEC("xdp")
int ctx_write_xdp(struct xdp_md *ctx)
{
	ctx->data += 14;
	return XDP_PASS;
}
