// Tags that travel with a frame: the XDP program on `eth0` stores a packet id and a traffic class in
// the frame's metadata key/value store (an ebpf-wasm extension, include/ebpf-wasm/ext.h) and
// redirects the frame through a devmap to `eth1`; the devmap entry's program reads the tags back to
// set the IPv4 DSCP of the class (with an incremental checksum update) and counts frames per class.
// The receive hints the runtime fills in (the flow hash) are read too.
//
//   npx ebpf-wasm replay --topology examples/kv-tags/topology.json --out /tmp/tags --pcapng
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../../include/ebpf-wasm/ext.h"

/* The keys, named in the topology's "metadata_keys" so that JS and the --pcapng comments use the names. */
#define KEY_PACKET_ID 0
#define KEY_CLASS 1

enum class { BEST_EFFORT, INTERACTIVE, BULK, CLASSES };
/* DSCP per class: CS0, EF (46), CS1 (8). */
static const __u8 dscp_of[CLASSES] = { 0, 46, 8 };

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} out_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLASSES);
	__type(key, __u32);
	__type(value, __u64);
} per_class SEC(".maps");

/* The next packet id (one CPU: the example runs on one). */
__u64 next_id = 1;

static __always_inline __u16 class_of(__u8 proto, __be16 dport)
{
	__u16 port = bpf_ntohs(dport);

	if (proto == IPPROTO_TCP && (port == 22 || port == 443))
		return INTERACTIVE;
	if (proto == IPPROTO_UDP && port == 53)
		return INTERACTIVE;
	if (proto == IPPROTO_TCP && port == 80)
		return BULK;
	return BEST_EFFORT;
}

SEC("xdp")
int xdp_tag(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 class = BEST_EFFORT;
	__u64 id = next_id++;
	__u32 hash = 0;

	if ((void *)(ip + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP) && ip->ihl == 5) {
		struct udphdr *l4 = (void *)(ip + 1); /* TCP and UDP start with the ports */
		if ((void *)(l4 + 1) <= data_end)
			class = class_of(ip->protocol, l4->dest);
	}
	if (bpf_xdp_kv_set(ctx, KEY_PACKET_ID, &id, sizeof(id), 0) || bpf_xdp_kv_set(ctx, KEY_CLASS, &class, sizeof(class), 0))
		return XDP_ABORTED;
	if (id == 1 && !bpf_xdp_kv_get(ctx, BPF_XDP_KV_RX_HASH, &hash, sizeof(hash)))
		bpf_printk("first packet: flow hash %x", hash);
	return bpf_redirect_map(&out_port, 0, XDP_PASS);
}

SEC("xdp/devmap")
int set_dscp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 class;
	__u64 id, *n;
	__u32 key, slot;
	__u8 tos;
	__u32 sum;

	if (bpf_xdp_kv_get(ctx, KEY_CLASS, &class, sizeof(class)) || bpf_xdp_kv_get(ctx, KEY_PACKET_ID, &id, sizeof(id)))
		return XDP_DROP; /* every frame was tagged on the way in */
	key = class < CLASSES ? class : BEST_EFFORT;
	/* The lookup gets a copy: an index whose address is taken lives in stack memory, where the
	 * verifier does not keep its bounds for the dscp_of[key] below. */
	slot = key;
	n = bpf_map_lookup_elem(&per_class, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	tos = (dscp_of[key] << 2) | (ip->tos & 3);
	if (tos == ip->tos)
		return XDP_PASS;
	/* RFC 1624: the checksum changes by the difference of the 16-bit word holding the TOS. */
	sum = (__u16)~ip->check + (__u16)~bpf_htons((ip->version << 12) | (ip->ihl << 8) | ip->tos) + bpf_htons((ip->version << 12) | (ip->ihl << 8) | tos);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->tos = tos;
	ip->check = ~sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
