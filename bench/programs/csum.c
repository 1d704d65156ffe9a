// Compute over packet bytes: the ones'-complement sum of the first 1,500 bytes, 16 bits at a time
// with a bounds check per word, folded to 16 bits; the verdict depends on the sum.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define WORDS 750

SEC("xdp")
int csum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 sum = 0;

	for (int i = 0; i < WORDS; i++) {
		__u16 *word = data + i * 2;

		if ((void *)(word + 1) > data_end)
			break;
		sum += *word;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) == 0xffff ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
