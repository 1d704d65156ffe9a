// An egress ACL on the XDP egress hook (an ebpf-wasm extension: every frame an interface transmits
// passes its egress program, whether an ingress program redirected it, bounced it with XDP_TX, or
// the stack sent it). `xdp_forward` on `in0` sends everything out of `out0` and answers pings
// itself with XDP_TX; `egress_acl` on `out0` (and `in0`) drops frames to denied destination
// prefixes and counts what it let through per interface. On transmit the order is: the devmap
// entry's program (none here), then the egress hook, then the wire.
//
//   npx ebpf-wasm replay --topology examples/egress-acl/topology.json
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define OUT_IFINDEX 3

struct prefix_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct prefix_v4);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} denied SEC(".maps");

struct verdicts {
	__u64 allowed;
	__u64 denied;
};

/* By egress ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct verdicts);
} per_interface SEC(".maps");

struct icmp_echo {
	__u8 type;
	__u8 code;
	__sum16 checksum;
};

SEC("xdp")
int xdp_forward(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct icmp_echo *icmp = (void *)(ip + 1);

	/* Pings are answered here (addresses swapped, type 0, checksum adjusted), everything else forwarded. */
	if ((void *)(icmp + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP) && ip->ihl == 5 && ip->protocol == IPPROTO_ICMP && icmp->type == 8) {
		__u8 mac[ETH_ALEN];
		__be32 addr = ip->saddr;
		__u32 sum;

		__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		icmp->type = 0;
		sum = (__u16)~icmp->checksum + (__u16)~bpf_htons(0x0800);
		sum = (sum & 0xffff) + (sum >> 16);
		icmp->checksum = ~((sum & 0xffff) + (sum >> 16));
		return XDP_TX;
	}
	return bpf_redirect(OUT_IFINDEX, 0);
}

/* The egress hook: an xdp/devmap program, so that it may read egress_ifindex. */
SEC("xdp/devmap")
int egress_acl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 ifindex = ctx->egress_ifindex;
	struct verdicts *v = bpf_map_lookup_elem(&per_interface, &ifindex);
	struct prefix_v4 key = { .prefixlen = 32 };
	__u64 *hits;

	if ((void *)(ip + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP)) {
		__builtin_memcpy(key.addr, &ip->daddr, 4);
		hits = bpf_map_lookup_elem(&denied, &key);
		if (hits) {
			__sync_fetch_and_add(hits, 1);
			if (v)
				__sync_fetch_and_add(&v->denied, 1);
			return XDP_DROP;
		}
	}
	if (v)
		__sync_fetch_and_add(&v->allowed, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
