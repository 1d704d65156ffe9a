// An L4 load balancer in direct-server-return style, on the interface `wan0` that faces clients:
// TCP and UDP flows to the virtual address (VIP) and port are spread over backends by a hash of
// their 5-tuple and redirected through a devmap to the backend's interface; the devmap entry's
// program (`rewrite_mac`) gives the frame the backend's MAC address, which the XDP program passes it
// in the frame's metadata. Pings to the VIP are answered at once with XDP_TX; ARP requests are
// broadcast to every backend interface; everything else goes to the stack. `count_tx`, on the
// egress hook of every interface (beyond Linux: it sees redirected and XDP_TX frames alike),
// counts the frames and bytes each interface sends.
//
//   npx ebpf-wasm replay --topology examples/lb/topology.json --out /tmp/lb
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_BACKENDS 8
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

/* <linux/icmp.h> pulls in libc headers; the echo header is all this needs. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

struct lb_config {
	__be32 vip;
	__be16 port;
	__u16 backends;
};

struct backend {
	/* The backend's MAC address, and the one of our interface that reaches it. */
	__u8 mac[ETH_ALEN];
	__u8 src_mac[ETH_ALEN];
};

/* What the XDP program tells the devmap program, in the frame's metadata. */
struct lb_meta {
	__u32 backend;
};

enum counter { FORWARDED, PING_REPLIES, ARP_FLOODED, PASSED, NO_BACKEND, COUNTERS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

struct tx_counter {
	__u64 packets;
	__u64 bytes;
};

/* By ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct tx_counter);
} tx_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(enum counter c)
{
	__u32 key = c;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Answers an ICMP echo request in place: addresses swapped, type 0, checksum adjusted (RFC 1624). */
static __always_inline int ping_reply(struct ethhdr *eth, struct iphdr *ip, struct icmphdr *icmp)
{
	__u8 mac[ETH_ALEN];
	__be32 addr;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	icmp->type = ICMP_ECHOREPLY;
	/* The type is the high byte of the first word: 8 -> 0 takes 0x0800 off the sum. */
	icmp->checksum = csum_fold((__u16)~icmp->checksum + (__u16)~bpf_htons(ICMP_ECHO << 8) + bpf_htons(ICMP_ECHOREPLY << 8));
	count(PING_REPLIES);
	return XDP_TX;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 zero = 0, hash, index;
	struct lb_config *cfg;
	struct lb_meta *meta;
	__be16 sport, dport;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		count(ARP_FLOODED);
		return bpf_redirect_map(&tx_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end || ip->ihl != 5 || ip->daddr != cfg->vip)
		goto pass;
	if (ip->protocol == IPPROTO_ICMP) {
		struct icmphdr *icmp = (void *)(ip + 1);
		if ((void *)(icmp + 1) <= data_end && icmp->type == ICMP_ECHO)
			return ping_reply(eth, ip, icmp);
		goto pass;
	}
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > data_end)
			goto pass;
		sport = tcp->source;
		dport = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			goto pass;
		sport = udp->source;
		dport = udp->dest;
	} else {
		goto pass;
	}
	if (dport != cfg->port || !cfg->backends || cfg->backends > MAX_BACKENDS)
		goto pass;
	/* Every packet of a flow goes to the same backend. */
	hash = ip->saddr ^ ((__u32)sport << 16 | dport) ^ ip->protocol;
	hash ^= hash >> 16;
	hash *= 0x45d9f3b;
	hash ^= hash >> 16;
	index = hash % cfg->backends;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		goto pass;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		goto pass;
	meta->backend = index;
	count(FORWARDED);
	return bpf_redirect_map(&tx_ports, index, XDP_ABORTED);
pass:
	count(PASSED);
	return XDP_PASS;
}

/* Runs on every frame the devmap sends out of a backend's interface. */
SEC("xdp/devmap")
int rewrite_mac(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct lb_meta *meta = (void *)(long)ctx->data_meta;
	struct ethhdr *eth = data;
	struct backend *be;

	/* Broadcast ARP carries no metadata: it goes out as it came. */
	if ((void *)(meta + 1) > data)
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	be = bpf_map_lookup_elem(&backends, &meta->backend);
	if (!be) {
		count(NO_BACKEND);
		return XDP_DROP;
	}
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, be->src_mac, ETH_ALEN);
	return XDP_PASS;
}

/* The egress hook: an xdp/devmap program, so that it may read egress_ifindex. */
SEC("xdp/devmap")
int count_tx(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->egress_ifindex;
	struct tx_counter *c = bpf_map_lookup_elem(&tx_counters, &ifindex);

	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, ctx->data_end - ctx->data);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
