// Accepted: a tc program reads __sk_buff fields (some narrowly), writes the writable ones, and
// reads the packet between data and data_end.
#include "common.h"

SEC("tc")
int tc_skb_fields(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 low = *(volatile __u8 *)&skb->mark;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	skb->mark = skb->len + low;
	skb->priority = skb->protocol == bpf_htons(ETH_P_IP) ? 1 : 2;
	skb->cb[1] = skb->ifindex;
	skb->tc_classid = 0x10001;
	return eth->h_dest[0] & 1 ? TC_ACT_OK : TC_ACT_UNSPEC;
}
