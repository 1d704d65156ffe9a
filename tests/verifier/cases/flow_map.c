// Accepted (this runtime only: the flow map and its helpers are extensions, DESIGN.md): both keys
// of a connection insert one entry, a lookup by either gives the shared value and the direction.
#include "common.h"

#define BPF_MAP_TYPE_FLOW 0x1000

struct flow_key {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 proto;
};

struct flow_value {
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_FLOW);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

static long (*bpf_flow_map_insert)(void *map, const void *key_a, const void *key_b, const void *value, __u64 flags) = (void *)0x10010;
static void *(*bpf_flow_map_lookup)(void *map, const void *key, __u32 *dir) = (void *)0x10011;

SEC("xdp")
int flow_map(struct xdp_md *ctx)
{
	struct flow_key a = { .saddr = 1, .daddr = 2, .sport = 10, .dport = 20, .proto = IPPROTO_UDP };
	struct flow_key b = { .saddr = 2, .daddr = 1, .sport = 20, .dport = 10, .proto = IPPROTO_UDP };
	struct flow_value zero = {};
	struct flow_value *v;
	__u32 dir;

	bpf_flow_map_insert(&flows, &a, &b, &zero, 0);
	v = bpf_flow_map_lookup(&flows, &b, &dir);
	if (!v)
		return XDP_ABORTED;
	v->packets++;
	return dir == 1 ? XDP_PASS : XDP_DROP;
}
