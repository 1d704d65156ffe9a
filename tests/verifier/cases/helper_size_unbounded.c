// Rejected: the length given to bpf_skb_load_bytes comes from the packet with no upper bound.
#include "common.h"

SEC("tc")
int helper_size_unbounded(struct __sk_buff *skb)
{
	char buf[64];
	__u32 len = skb->len - 14;

	if (bpf_skb_load_bytes(skb, 14, buf, len) < 0)
		return TC_ACT_SHOT;
	return buf[0] == 0x45 ? TC_ACT_OK : TC_ACT_SHOT;
}
