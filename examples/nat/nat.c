// NAT over a flow map (an ebpf-wasm extension, include/ebpf-wasm/ext.h), the scenario the flow-map
// proposal was written for: connections are set up by "the stack" (here the example's Node control
// plane, control.mjs), and XDP forwards them once they are. Each entry has two keys, the tuple a
// connection's packets carry on the LAN side and the (different) one they carry on the WAN side,
// and one value with the rewrite data. The same program runs on both interfaces:
// - a packet whose tuple is a key is rewritten (source on the way out, destination on the way in,
//   checksums updated incrementally) and redirected out of the other interface;
// - one that matches nothing goes to the stack (XDP_PASS), where the control plane sees new
//   connections' SYNs, allocates a WAN port, inserts the pair, and hands the SYN back;
// - a FIN or a RST deletes the entry by the key it carried, after forwarding: the other direction
//   stops matching and its packets go to the stack.
//
//   npx ebpf-wasm replay --topology examples/nat/topology.json
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../../include/ebpf-wasm/ext.h"

#define LAN_IFINDEX 2
#define WAN_IFINDEX 3

/* A connection's tuple as a packet carries it. */
struct tuple {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* The rewrite data of a connection, shared by both directions. */
struct nat_flow {
	__be32 lan_addr;      /* the LAN host */
	__be32 wan_addr;      /* our public address */
	__be16 lan_port;
	__be16 wan_port;      /* the port allocated for it */
	__u8 host_mac[ETH_ALEN];
	__u8 gateway_mac[ETH_ALEN];
	__u64 packets[2];     /* out, in */
};

struct {
	__uint(type, BPF_MAP_TYPE_FLOW);
	__uint(max_entries, 4096);
	__type(key, struct tuple);
	__type(value, struct nat_flow);
} flows SEC(".maps");

/* Our interfaces' MACs, by ifindex (set by the topology). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct { __u8 addr[ETH_ALEN]; });
} macs SEC(".maps");

/* RFC 1624: a 16-bit checksum after one 16-bit word changed from `from` to `to`. */
static __always_inline void csum_replace2(__sum16 *sum, __be16 from, __be16 to)
{
	__u32 s = (__u16)~*sum + (__u16)~from + to;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = ~s;
}

static __always_inline void csum_replace4(__sum16 *sum, __be32 from, __be32 to)
{
	csum_replace2(sum, from >> 16, to >> 16);
	csum_replace2(sum, from & 0xffff, to & 0xffff);
}

SEC("xdp")
int xdp_nat(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	struct tuple key = {};
	struct nat_flow *flow;
	__u32 dir, out, ifindex;
	void *mac;

	if ((void *)(tcp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	key.src = ip->saddr;
	key.dst = ip->daddr;
	key.sport = tcp->source;
	key.dport = tcp->dest;
	key.proto = IPPROTO_TCP;
	flow = bpf_flow_map_lookup(&flows, &key, &dir);
	if (!flow)
		return XDP_PASS;
	/* The key a packet arriving here should carry: the LAN tuple on the LAN, the WAN tuple on the WAN. */
	if ((ctx->ingress_ifindex == LAN_IFINDEX) != (dir == 0))
		return XDP_PASS;
	if (dir == 0) {
		/* LAN -> WAN: the source becomes ours. */
		csum_replace4(&ip->check, ip->saddr, flow->wan_addr);
		csum_replace4(&tcp->check, ip->saddr, flow->wan_addr);
		csum_replace2(&tcp->check, tcp->source, flow->wan_port);
		ip->saddr = flow->wan_addr;
		tcp->source = flow->wan_port;
		__builtin_memcpy(eth->h_dest, flow->gateway_mac, ETH_ALEN);
		out = WAN_IFINDEX;
	} else {
		/* WAN -> LAN: the destination becomes the host's. */
		csum_replace4(&ip->check, ip->daddr, flow->lan_addr);
		csum_replace4(&tcp->check, ip->daddr, flow->lan_addr);
		csum_replace2(&tcp->check, tcp->dest, flow->lan_port);
		ip->daddr = flow->lan_addr;
		tcp->dest = flow->lan_port;
		__builtin_memcpy(eth->h_dest, flow->host_mac, ETH_ALEN);
		out = LAN_IFINDEX;
	}
	ifindex = out;
	mac = bpf_map_lookup_elem(&macs, &ifindex);
	if (mac)
		__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	/* dir is 0 or 1, but the helper wrote it: the verifier knows only the bound the program applies. */
	__sync_fetch_and_add(&flow->packets[dir & 1], 1);
	/* Teardown: forward this one, then the connection is gone from the fast path. */
	if (tcp->fin || tcp->rst)
		bpf_map_delete_elem(&flows, &key);
	return bpf_redirect(out, 0);
}

char LICENSE[] SEC("license") = "GPL";
