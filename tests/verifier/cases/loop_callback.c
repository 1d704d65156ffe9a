// Accepted: bpf_loop runs a callback over the first bytes of the packet, with its state on the stack.
#include "common.h"

struct sum_ctx {
	unsigned char *data;
	void *data_end;
	__u32 sum;
};

static long add_byte(__u32 i, struct sum_ctx *c)
{
	unsigned char *p = c->data + (i & 63);

	if ((void *)(p + 1) > c->data_end)
		return 1;
	c->sum += *p;
	return 0;
}

SEC("xdp")
int loop_callback(struct xdp_md *ctx)
{
	struct sum_ctx c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0 };

	bpf_loop(64, add_byte, &c, 0);
	return c.sum & 1 ? XDP_PASS : XDP_DROP;
}
