// Accepted: a cgroup_skb egress program reads the packet and returns one of 0-3.
#include "common.h"

SEC("cgroup_skb/egress")
int cgroup_skb_ok(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;

	if ((void *)(ip + 1) > data_end)
		return 1;
	return ip->ttl < 2 ? 0 : 1;
}
