// Accepted: a socket filter reads the packet with legacy loads and writes cb[].
#include "common.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

SEC("socket")
int socket_ldabs(struct __sk_buff *skb)
{
	if (load_half(skb, 12) != ETH_P_IP)
		return 0;
	skb->cb[0] = load_byte(skb, ETH_HLEN + 9);
	return skb->cb[0] == IPPROTO_UDP ? skb->len : 0;
}
