// Loads every program of the verifier selftest objects into the running kernel, one program at a
// time (with the object's __auxiliary programs, as the selftests' test_loader.c does), and prints
// one JSON line per program: its annotations (__success/__failure, __msg, __flag) and the kernel's
// verdict with the end of its log. A program the kernel accepts that has a __retval is also run as
// the selftests' harness runs it (prog_tests/verifier.c and test_loader.c: BPF_PROG_TEST_RUN on 64
// zero bytes, repeat 1, the maps some tests pre-fill filled), and the retval recorded.
// Privileged mode only: run as root.
//
//   kernel-verdicts OBJ...   > kernel-verdicts.jsonl
//
// Built against the libbpf of the same kernel tree as the selftests (build.sh).
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SIZE (16 * 1024 * 1024)

/* Older uapi headers (Debian's libbpf-dev) predate these flags. */
#ifndef BPF_F_TEST_REG_INVARIANTS
#define BPF_F_TEST_REG_INVARIANTS (1U << 7)
#endif
#ifndef BPF_F_XDP_HAS_FRAGS
#define BPF_F_XDP_HAS_FRAGS (1U << 5)
#endif
#define MAX_TAGS 64

static char *log_buf;

struct annotations {
	int expect_failure; /* -1: none given */
	int auxiliary;
	unsigned int flags;
	const char *msgs[MAX_TAGS];
	int nmsgs;
	const char *description;
	const char *retval; /* __retval's text: a number, INT_MIN, POINTER_VALUE or TEST_DATA_LEN */
};

/* The harness's run: TEST_DATA_LEN zero bytes in, room for four times that out. */
#define TEST_DATA_LEN 64

/* struct test_val of prog_tests/verifier.c, which pre-fills two tests' maps with it. */
struct test_val {
	unsigned int index;
	int foo[11];
};

struct run {
	int done; /* 0: not run */
	int err;
	unsigned int retval;
};

static void json_string(FILE *out, const char *s, size_t max)
{
	size_t n = 0;
	fputc('"', out);
	for (; *s && n < max; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static unsigned int flag_value(const char *name)
{
	if (!strcmp(name, "BPF_F_STRICT_ALIGNMENT"))
		return BPF_F_STRICT_ALIGNMENT;
	if (!strcmp(name, "BPF_F_ANY_ALIGNMENT"))
		return BPF_F_ANY_ALIGNMENT;
	if (!strcmp(name, "BPF_F_TEST_RND_HI32"))
		return BPF_F_TEST_RND_HI32;
	if (!strcmp(name, "BPF_F_TEST_STATE_FREQ"))
		return BPF_F_TEST_STATE_FREQ;
	if (!strcmp(name, "BPF_F_SLEEPABLE"))
		return BPF_F_SLEEPABLE;
	if (!strcmp(name, "BPF_F_XDP_HAS_FRAGS"))
		return BPF_F_XDP_HAS_FRAGS;
	if (!strcmp(name, "BPF_F_TEST_REG_INVARIANTS"))
		return BPF_F_TEST_REG_INVARIANTS;
	return (unsigned int)strtoul(name, NULL, 0);
}

/* The selftests' annotations are BTF decl tags "comment:test_..." on the program's function. */
static void read_annotations(const struct btf *btf, const char *func, struct annotations *a)
{
	memset(a, 0, sizeof(*a));
	a->expect_failure = -1;
	if (!btf)
		return;
	int n = btf__type_cnt(btf);
	int func_id = -1;
	for (int i = 1; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		if (btf_is_func(t) && !strcmp(btf__name_by_offset(btf, t->name_off), func)) {
			func_id = i;
			break;
		}
	}
	if (func_id < 0)
		return;
	for (int i = 1; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		if (!btf_is_decl_tag(t) || t->type != (unsigned int)func_id || btf_decl_tag(t)->component_idx != -1)
			continue;
		const char *s = btf__name_by_offset(btf, t->name_off);
		if (!strcmp(s, "comment:test_expect_failure"))
			a->expect_failure = 1;
		else if (!strcmp(s, "comment:test_expect_success"))
			a->expect_failure = 0;
		else if (!strcmp(s, "comment:test_auxiliary"))
			a->auxiliary = 1;
		else if (!strncmp(s, "comment:test_prog_flags=", 24))
			a->flags |= flag_value(s + 24);
		else if (!strncmp(s, "comment:test_retval=", 20))
			a->retval = s + 20;
		else if (!strncmp(s, "comment:test_description=", 25))
			a->description = s + 25;
		else if (!strncmp(s, "comment:test_expect_msg=", 24) && a->nmsgs < MAX_TAGS) {
			const char *m = strchr(s + 24, '=');
			a->msgs[a->nmsgs++] = m ? m + 1 : s + 24;
		}
	}
}

/* The last `lines` lines of the log, where the kernel says why it refused. */
static const char *log_tail(const char *log, int lines)
{
	size_t len = strlen(log);
	if (len == 0)
		return log;
	const char *p = log + len - 1;
	while (p > log && *p == '\n')
		p--;
	for (; p > log; p--) {
		if (*p == '\n' && --lines == 0)
			return p + 1;
	}
	return log;
}

/* As prog_tests/verifier.c's init_test_val_map: key 0 of the map gets index 28 and foo[6] 0xabcdef12. */
static void prefill(struct bpf_object *obj)
{
	const char *names[] = { "map_array_ro", "map_array_48b" };
	struct test_val value = { .index = (6 + 1) * sizeof(int) };
	int key = 0;

	value.foo[6] = 0xabcdef12;
	for (int i = 0; i < 2; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, names[i]);
		if (map)
			bpf_map_update_elem(bpf_map__fd(map), &key, &value, 0);
	}
}

static void test_run(struct bpf_program *p, struct run *run)
{
	unsigned char in[TEST_DATA_LEN] = { 0 }, out[TEST_DATA_LEN * 4];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = sizeof(in), .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	run->done = 1;
	run->err = bpf_prog_test_run_opts(bpf_program__fd(p), &opts) ? -errno : 0;
	run->retval = opts.retval;
}

static int load_one(const char *path, const char *prog_name, struct annotations *self, int *processed, struct run *run)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return -errno;
	struct bpf_program *p;
	const struct btf *btf = bpf_object__btf(obj);
	bpf_object__for_each_program(p, obj) {
		struct annotations a;
		read_annotations(btf, bpf_program__name(p), &a);
		int mine = !strcmp(bpf_program__name(p), prog_name);
		bpf_program__set_autoload(p, mine || a.auxiliary);
		if (mine) {
			bpf_program__set_log_buf(p, log_buf, LOG_SIZE);
			bpf_program__set_log_level(p, 1 | 4);
			bpf_program__set_flags(p, bpf_program__flags(p) | self->flags);
		}
	}
	log_buf[0] = 0;
	int err = bpf_object__load(obj);
	*processed = -1;
	const char *at = strstr(log_buf, "processed ");
	if (at)
		*processed = atoi(at + 10);
	run->done = 0;
	if (!err && self->retval) {
		prefill(obj);
		test_run(bpf_object__find_program_by_name(obj, prog_name), run);
	}
	bpf_object__close(obj);
	return err;
}

int main(int argc, char **argv)
{
	log_buf = malloc(LOG_SIZE);
	libbpf_set_print(NULL);
	for (int f = 1; f < argc; f++) {
		const char *path = argv[f];
		struct bpf_object *obj = bpf_object__open_file(path, NULL);
		if (!obj) {
			fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
			continue;
		}
		const struct btf *btf = bpf_object__btf(obj);
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj) {
			struct annotations a;
			const char *name = bpf_program__name(p);
			read_annotations(btf, name, &a);
			if (a.auxiliary)
				continue;
			int processed = -1;
			struct run run = { 0 };
			int err = load_one(path, name, &a, &processed, &run);
			printf("{\"file\":");
			json_string(stdout, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, 4096);
			printf(",\"program\":");
			json_string(stdout, name, 4096);
			printf(",\"section\":");
			json_string(stdout, bpf_program__section_name(p), 4096);
			printf(",\"expect\":\"%s\"", a.expect_failure < 0 ? "none" : a.expect_failure ? "failure" : "success");
			printf(",\"flags\":%u,\"msgs\":[", a.flags);
			for (int i = 0; i < a.nmsgs; i++) {
				if (i)
					putchar(',');
				json_string(stdout, a.msgs[i], 4096);
			}
			printf("],\"kernel\":\"%s\",\"errno\":%d,\"processed\":%d,\"log\":", err ? "rejected" : "accepted", err, processed);
			json_string(stdout, err ? log_tail(log_buf, 6) : "", 4096);
			if (a.retval) {
				printf(",\"retval\":");
				json_string(stdout, a.retval, 64);
			}
			if (run.done)
				printf(",\"run\":{\"errno\":%d,\"retval\":%u}", run.err, run.retval);
			printf("}\n");
			fflush(stdout);
		}
		bpf_object__close(obj);
	}
	return 0;
}
