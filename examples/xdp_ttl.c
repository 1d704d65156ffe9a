// An XDP forwarding step: decrements the IPv4 TTL with an incremental checksum update (RFC 1624),
// drops packets whose TTL runs out, counts verdicts per IP protocol in an array map, and logs each
// decision with bpf_printk. `ebpf-wasm test-run examples/xdp_ttl.o --data-in examples/udp.bin`
// shows the rewritten packet and the log. Rebuild with `npm run fixtures`.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counters {
	__u64 forwarded;
	__u64 expired;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counters);
} by_protocol SEC(".maps");

SEC("xdp")
int xdp_ttl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct counters *c;
	__u32 proto, sum;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	proto = ip->protocol;
	c = bpf_map_lookup_elem(&by_protocol, &proto);
	if (!c)
		return XDP_ABORTED;
	if (ip->ttl <= 1) {
		__sync_fetch_and_add(&c->expired, 1);
		bpf_printk("proto %u: ttl %u expired, drop", proto, ip->ttl);
		return XDP_DROP;
	}
	/* TTL is the high byte of its 16-bit word: the checksum goes up by 0x0100. */
	ip->ttl--;
	sum = ip->check + bpf_htons(0x0100);
	ip->check = sum + (sum >> 16);
	__sync_fetch_and_add(&c->forwarded, 1);
	bpf_printk("proto %u: ttl now %u, forward", proto, ip->ttl);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
