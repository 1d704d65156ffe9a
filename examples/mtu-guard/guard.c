// An MTU guard: frames received on `eth0` are forwarded out of `eth1` (bpf_redirect), unless they
// are longer than eth1's MTU, which the program reads live through a control map (an ebpf-wasm
// extension, include/ebpf-wasm/ext.h): those are dropped and counted. The map declares only the
// first two fields of the record; a control map hands a program the part of the layout it knows.
// The topology's control script lowers eth1's MTU part-way through the replay, and the verdicts follow.
//
//   npx ebpf-wasm replay --topology examples/mtu-guard/topology.json
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "../../include/ebpf-wasm/ext.h"

/* The start of struct bpf_ctrl_xdp_attr: enough for this program. */
struct xdp_attr_head {
	__u32 ifindex;
	__u32 mtu;
};

struct {
	__uint(type, BPF_MAP_TYPE_CONTROL);
	__uint(map_extra, BPF_CTRL_XDP_ATTR);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct xdp_attr_head);
} interfaces SEC(".maps");

enum { FORWARDED, TOO_BIG, COUNTERS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Where frames go: eth1. */
const volatile __u32 out_ifindex = 3;

SEC("xdp")
int mtu_guard(struct xdp_md *ctx)
{
	__u32 out = out_ifindex, key;
	struct xdp_attr_head *attr = bpf_map_lookup_elem(&interfaces, &out);
	__u64 *n;

	if (!attr)
		return XDP_ABORTED;
	key = ctx->data_end - ctx->data - ETH_HLEN > attr->mtu ? TOO_BIG : FORWARDED;
	n = bpf_map_lookup_elem(&counters, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return key == TOO_BIG ? XDP_DROP : bpf_redirect(out, 0);
}

char LICENSE[] SEC("license") = "GPL";
