// Times uBPF's interpreter on one of our XDP benchmark objects (bench/programs/*.o), for the
// interpreter-vs-uBPF ratio of issue 12. Uses only uBPF's public API (vm/inc/ubpf.h).
//
//   harness OBJECT.o PACKET.bin [RUNS] [SECTION]
//
// Loads the program section (default "xdp"; the objects have no relocations) of a 64-bit
// little-endian ELF object, builds the XDP context the way the program expects it, and runs the
// program RUNS times (default 1,000,000) in batches. Prints the median and spread of the batches'
// ns per run, the mean over all of them (what our test-run reports), and the program's return value.
//
// An XDP program reads ctx->data and ctx->data_end as 32-bit fields of struct xdp_md, so they can
// only hold addresses below 4 GiB: one buffer mapped with MAP_32BIT holds the fake xdp_md and, after
// it, the packet, and that whole buffer is uBPF's mem/mem_len, so its bounds checks accept both the
// context reads and the packet reads.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ubpf.h"

/** struct xdp_md of linux/bpf.h. */
struct xdp_md
{
    uint32_t data;
    uint32_t data_end;
    uint32_t data_meta;
    uint32_t ingress_ifindex;
    uint32_t rx_queue_index;
    uint32_t egress_ifindex;
};

/** Where the packet starts in the buffer: after the context, at XDP_PACKET_HEADROOM as in Linux. */
#define PACKET_OFFSET 256
/** Batches the runs are split into: the median batch is the figure, the others its spread. */
#define BATCHES 31

static void
die(const char* what)
{
    fprintf(stderr, "harness: %s\n", what);
    exit(1);
}

static uint8_t*
read_file(const char* path, size_t* length)
{
    FILE* f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t* bytes = malloc(n > 0 ? n : 1);
    if (!bytes || fread(bytes, 1, n, f) != (size_t)n)
        die("cannot read input");
    fclose(f);
    *length = n;
    return bytes;
}

/** The bytes of the section called `name` in an ELF64 object, bounds-checked against the file. */
static const uint8_t*
elf_section(const uint8_t* elf, size_t length, const char* name, size_t* size)
{
    if (length < sizeof(Elf64_Ehdr) || memcmp(elf, ELFMAG, SELFMAG) != 0 || elf[EI_CLASS] != ELFCLASS64 ||
        elf[EI_DATA] != ELFDATA2LSB)
        die("not a 64-bit little-endian ELF object");
    const Elf64_Ehdr* eh = (const Elf64_Ehdr*)elf;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > length ||
        eh->e_shstrndx >= eh->e_shnum)
        die("bad section header table");
    const Elf64_Shdr* sh = (const Elf64_Shdr*)(elf + eh->e_shoff);
    const Elf64_Shdr* names = &sh[eh->e_shstrndx];
    if (names->sh_offset + names->sh_size > length)
        die("bad section name table");
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_name >= names->sh_size)
            continue;
        const char* section = (const char*)elf + names->sh_offset + sh[i].sh_name;
        if (strncmp(section, name, names->sh_size - sh[i].sh_name) != 0)
            continue;
        if (sh[i].sh_type != SHT_PROGBITS || sh[i].sh_offset + sh[i].sh_size > length)
            die("program section is not PROGBITS within the file");
        *size = sh[i].sh_size;
        return elf + sh[i].sh_offset;
    }
    fprintf(stderr, "harness: no section '%s'\n", name);
    exit(1);
}

static uint64_t
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static int
compare_doubles(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char** argv)
{
    if (argc < 3 || argc > 5)
        die("usage: harness OBJECT.o PACKET.bin [RUNS] [SECTION]");
    long runs = argc > 3 ? strtol(argv[3], NULL, 10) : 1000000;
    const char* section = argc > 4 ? argv[4] : "xdp";
    if (runs < BATCHES)
        die("RUNS must be at least the number of batches (31)");

    size_t elf_length, code_length, packet_length;
    uint8_t* elf = read_file(argv[1], &elf_length);
    const uint8_t* code = elf_section(elf, elf_length, section, &code_length);
    uint8_t* packet = read_file(argv[2], &packet_length);

    size_t mem_length = PACKET_OFFSET + packet_length;
    uint8_t* mem = mmap(NULL, mem_length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap(MAP_32BIT) failed");
    memcpy(mem + PACKET_OFFSET, packet, packet_length);
    struct xdp_md* ctx = (struct xdp_md*)mem;
    ctx->data = (uint32_t)(uintptr_t)(mem + PACKET_OFFSET);
    ctx->data_end = (uint32_t)(uintptr_t)(mem + mem_length);
    ctx->data_meta = ctx->data;
    ctx->ingress_ifindex = 1;

    struct ubpf_vm* vm = ubpf_create();
    char* error = NULL;
    if (!vm || ubpf_load(vm, code, (uint32_t)code_length, &error) != 0) {
        fprintf(stderr, "harness: ubpf_load: %s\n", error ? error : "failed");
        return 1;
    }

    // A tenth of the runs warm caches and branch predictors first, as our test-run's warm-up does.
    uint64_t r0 = 0;
    for (long i = 0; i < runs / 10; i++) {
        if (ubpf_exec(vm, mem, mem_length, &r0) != 0)
            die("ubpf_exec failed");
    }
    long per_batch = runs / BATCHES;
    double ns_per_run[BATCHES];
    double total_ns = 0;
    for (int b = 0; b < BATCHES; b++) {
        uint64_t start = now_ns();
        for (long i = 0; i < per_batch; i++)
            ubpf_exec(vm, mem, mem_length, &r0);
        uint64_t elapsed = now_ns() - start;
        total_ns += elapsed;
        ns_per_run[b] = (double)elapsed / per_batch;
    }
    qsort(ns_per_run, BATCHES, sizeof(double), compare_doubles);
    printf(
        "r0 %llu, ns per run: median %.1f (min %.1f, max %.1f, mean %.1f) over %d batches of %ld runs\n",
        (unsigned long long)r0,
        ns_per_run[BATCHES / 2],
        ns_per_run[0],
        ns_per_run[BATCHES - 1],
        total_ns / ((double)per_batch * BATCHES),
        BATCHES,
        per_batch);
    ubpf_destroy(vm);
    return 0;
}
