// Register compute: 30,000 rounds of 64- and 32-bit multiply, divide and modulo on a value the
// compiler cannot fold (it starts from the packet's length).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ROUNDS 30000

SEC("xdp")
int alu(struct xdp_md *ctx)
{
	__u64 x = ctx->data_end - ctx->data;
	__u64 acc = 0;

	for (__u32 i = 1; i <= ROUNDS; i++) {
		x = x * 7919 + i;
		acc += x / 13;
		acc ^= (__u32)x % 1009;
	}
	return acc & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
