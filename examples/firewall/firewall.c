// An XDP firewall for a host's uplink: drops frames from blocked source prefixes (LPM tries for
// IPv4 and IPv6), to denied (protocol, port) pairs, malformed IP headers, and sources that send more
// TCP SYNs per second than the configured limit (an LRU hash of per-source windows, timed with
// bpf_ktime_get_ns, which follows the capture's timestamps in a replay). Everything else passes.
// Verdicts are counted per reason in a per-CPU array.
//
//   npx ebpf-wasm replay --topology examples/firewall/topology.json
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NS_PER_SEC 1000000000ULL

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct port_key {
	__u8 proto;
	__u8 pad;
	__be16 port;
};

struct syn_window {
	__u64 start_ns;
	__u32 syns;
	__u32 reported;
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct config {
	/* TCP SYNs one source may send per second before its SYNs are dropped (0: no limit). */
	__u32 syn_limit;
};

enum reason { PASS, BLOCKED_PREFIX, DENIED_PORT, SYN_FLOOD, MALFORMED, REASONS };

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v4_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocked_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v6_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocked_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct port_key);
	__type(value, __u64);
} denied_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, struct syn_window);
} syn_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REASONS);
	__type(key, __u32);
	__type(value, struct counter);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

static __always_inline int verdict(enum reason reason, struct xdp_md *ctx)
{
	__u32 key = reason;
	struct counter *c = bpf_map_lookup_elem(&stats, &key);

	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return reason == PASS ? XDP_PASS : XDP_DROP;
}

static __always_inline int hit(__u64 *hits)
{
	if (!hits)
		return 0;
	__sync_fetch_and_add(hits, 1);
	return 1;
}

/* 1 when the port is denied, 0 when not, -1 when the L4 header is cut short. */
static __always_inline int denied_port(__u8 proto, void *l4, void *data_end)
{
	struct port_key key = { .proto = proto };

	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return -1;
		key.port = tcp->dest;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return -1;
		key.port = udp->dest;
	} else {
		return 0;
	}
	return hit(bpf_map_lookup_elem(&denied_ports, &key));
}

/* Whether a SYN from this source is over the per-second limit. */
static __always_inline int syn_flood(__be32 saddr)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	__u64 now = bpf_ktime_get_ns();
	struct syn_window *w;

	if (!cfg || !cfg->syn_limit)
		return 0;
	w = bpf_map_lookup_elem(&syn_sources, &saddr);
	if (!w || now - w->start_ns >= NS_PER_SEC) {
		struct syn_window fresh = { .start_ns = now, .syns = 1 };
		bpf_map_update_elem(&syn_sources, &saddr, &fresh, BPF_ANY);
		return 0;
	}
	w->syns++;
	if (w->syns <= cfg->syn_limit)
		return 0;
	if (!w->reported) {
		w->reported = 1;
		bpf_printk("syn flood from %pI4: over %u SYNs in a second", &saddr, cfg->syn_limit);
	}
	return 1;
}

static __always_inline int ipv4(struct xdp_md *ctx, struct iphdr *ip, void *data_end)
{
	struct lpm_v4_key key = { .prefixlen = 32 };
	__u32 ihl, total;
	void *l4;
	int port;

	if ((void *)(ip + 1) > data_end)
		return verdict(MALFORMED, ctx);
	ihl = ip->ihl * 4;
	total = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || ihl < sizeof(*ip) || total < ihl || (void *)ip + total > data_end)
		return verdict(MALFORMED, ctx);
	__builtin_memcpy(key.addr, &ip->saddr, 4);
	if (hit(bpf_map_lookup_elem(&blocked_v4, &key))) {
		bpf_printk("blocked %pI4", &ip->saddr);
		return verdict(BLOCKED_PREFIX, ctx);
	}
	/* Later fragments carry no ports. */
	if (ip->frag_off & bpf_htons(0x1fff))
		return verdict(PASS, ctx);
	l4 = (void *)ip + ihl;
	port = denied_port(ip->protocol, l4, data_end);
	if (port < 0)
		return verdict(MALFORMED, ctx);
	if (port)
		return verdict(DENIED_PORT, ctx);
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) <= data_end && tcp->syn && !tcp->ack && syn_flood(ip->saddr))
			return verdict(SYN_FLOOD, ctx);
	}
	return verdict(PASS, ctx);
}

static __always_inline int ipv6(struct xdp_md *ctx, struct ipv6hdr *ip6, void *data_end)
{
	struct lpm_v6_key key = { .prefixlen = 128 };
	int port;

	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return verdict(MALFORMED, ctx);
	if ((void *)(ip6 + 1) + bpf_ntohs(ip6->payload_len) > data_end)
		return verdict(MALFORMED, ctx);
	__builtin_memcpy(key.addr, &ip6->saddr, 16);
	if (hit(bpf_map_lookup_elem(&blocked_v6, &key))) {
		bpf_printk("blocked %pI6", &ip6->saddr);
		return verdict(BLOCKED_PREFIX, ctx);
	}
	port = denied_port(ip6->nexthdr, ip6 + 1, data_end);
	if (port < 0)
		return verdict(MALFORMED, ctx);
	return verdict(port ? DENIED_PORT : PASS, ctx);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	void *l3;

	if ((void *)(eth + 1) > data_end)
		return verdict(MALFORMED, ctx);
	proto = eth->h_proto;
	l3 = eth + 1;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *vlan = l3;
		if ((void *)(vlan + 1) > data_end)
			return verdict(MALFORMED, ctx);
		proto = vlan->encapsulated_proto;
		l3 = vlan + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return ipv4(ctx, l3, data_end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return ipv6(ctx, l3, data_end);
	return verdict(PASS, ctx);
}

char LICENSE[] SEC("license") = "GPL";
