// A program the verifier refuses, as Linux's does: it reads a byte of the packet without first
// proving the packet is that long (no comparison with data_end). `ebpf-wasm verify` explains why
// and what to change; the README shows its report.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int packet_bounds(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	return data[14] == 0x45 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
