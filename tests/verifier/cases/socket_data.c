// Rejected: socket filters have no direct packet access (they use bpf_skb_load_bytes or LD_ABS).
#include "common.h"

SEC("socket")
int socket_data(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (data + 1 > data_end)
		return 0;
	return *(unsigned char *)data == 0x45 ? skb->len : 0;
}
