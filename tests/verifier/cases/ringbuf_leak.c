// Rejected: a ring buffer record is reserved and, on one path, neither submitted nor discarded.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct event {
	__u32 ifindex;
	__u32 len;
};

SEC("xdp")
int ringbuf_leak(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	e->ifindex = ctx->ingress_ifindex;
	if (ctx->data_end - ctx->data < 64)
		return XDP_DROP; /* forgot bpf_ringbuf_discard(e, 0) */
	e->len = ctx->data_end - ctx->data;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
