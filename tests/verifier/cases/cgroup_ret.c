// Rejected: a cgroup_skb ingress program may return only 0 (drop) or 1 (allow).
#include "common.h"

SEC("cgroup_skb/ingress")
int cgroup_ret(struct __sk_buff *skb)
{
	return skb->len > 1000 ? 2 : 1;
}
