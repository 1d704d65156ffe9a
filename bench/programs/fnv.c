// Compute over packet bytes: 32-bit FNV-1a of the first 1,500 bytes, one byte at a time with a
// bounds check per byte; the verdict depends on the hash.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BYTES 1500

SEC("xdp")
int fnv(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hash = 2166136261u;

	for (int i = 0; i < BYTES; i++) {
		__u8 *byte = data + i;

		if ((void *)(byte + 1) > data_end)
			break;
		hash ^= *byte;
		hash *= 16777619u;
	}
	return hash & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
