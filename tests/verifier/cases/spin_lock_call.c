// Rejected: a helper is called while a bpf_spin_lock is held.
#include "common.h"

struct bucket {
	struct bpf_spin_lock lock;
	__u64 tokens;
	__u64 stamp;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bucket);
} buckets SEC(".maps");

SEC("tc")
int spin_lock_call(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct bucket *b = bpf_map_lookup_elem(&buckets, &key);

	if (!b)
		return TC_ACT_OK;
	bpf_spin_lock(&b->lock);
	b->stamp = bpf_ktime_get_ns(); /* must be read before taking the lock */
	b->tokens++;
	bpf_spin_unlock(&b->lock);
	return TC_ACT_OK;
}
