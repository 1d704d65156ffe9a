#!/usr/bin/env bash
# Builds the corpus the verifier is measured against: Linux's verifier selftests
# (tools/testing/selftests/bpf/progs/verifier_*.c from Debian's linux-source-6.12), compiled as the
# selftests' Makefile compiles them, and the kernel's verdict on each program, recorded by loading
# it into the running kernel. Nothing here is committed: everything goes under $WORK.
#
#   sudo scripts/verifier-selftests/build.sh            # objects + kernel verdicts
#   node scripts/verifier-selftests/agreement.mjs       # then: our verdicts and the agreement
#
# Needs root (to load programs), clang-19, bpftool, make, gcc, libelf-dev, zlib1g-dev, python3.
set -euo pipefail

WORK=${WORK:-/work/verifier-scratch/selftests}
SOURCE_TARBALL=${SOURCE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
CLANG=${CLANG:-clang-19}
HERE=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$WORK"
cd "$WORK"
KSRC="$WORK/linux-source-6.12"

if [ ! -d "$KSRC/tools/testing/selftests/bpf/progs" ]; then
	echo "extracting the kernel tree's tools/, scripts/ and uapi headers"
	tar xf "$SOURCE_TARBALL" linux-source-6.12/tools linux-source-6.12/scripts linux-source-6.12/include/uapi
fi

# libbpf of the same tree: the selftests need its headers (bpf_helpers.h of 6.12), and the loader
# needs its program loading (autoload per program, log buffers).
if [ ! -f "$WORK/libbpf/lib64/libbpf.a" ]; then
	echo "building libbpf"
	mkdir -p "$WORK/libbpf-build"
	make -s -C "$KSRC/tools/lib/bpf" OUTPUT="$WORK/libbpf-build/" DESTDIR="$WORK/libbpf" prefix= install >/dev/null
fi

mkdir -p include objects
[ -s include/vmlinux.h ] || bpftool btf dump file /sys/kernel/btf/vmlinux format c > include/vmlinux.h

SELF="$KSRC/tools/testing/selftests/bpf"
# As the selftests' Makefile: BPF_CFLAGS, CLANG_SYS_INCLUDES, -mcpu=v3, -DENABLE_ATOMICS_TESTS.
CFLAGS=(-g -Wall -D__TARGET_ARCH_x86 -mlittle-endian -I"$WORK/libbpf/include" -I"$SELF" -I"$SELF/progs"
	-I"$KSRC/tools/include/uapi" -I"$WORK/include" -Wno-compare-distinct-pointer-types
	-idirafter /usr/lib/llvm-19/lib/clang/19/include -idirafter /usr/include/x86_64-linux-gnu -idirafter /usr/include
	-DENABLE_ATOMICS_TESTS -O2 --target=bpf -mcpu=v3)

failed=0
for src in "$SELF"/progs/verifier_*.c; do
	obj="objects/$(basename "${src%.c}").o"
	[ -f "$obj" ] && [ "$obj" -nt "$src" ] && continue
	if ! "$CLANG" "${CFLAGS[@]}" -c "$src" -o "$obj" 2>"objects/$(basename "${src%.c}").err"; then
		echo "compile failed: $(basename "$src") (objects/$(basename "${src%.c}").err)"
		rm -f "$obj"
		failed=$((failed + 1))
	else
		rm -f "objects/$(basename "${src%.c}").err"
	fi
done
echo "compiled $(ls objects/*.o | wc -l) objects ($failed failed)"

gcc -O1 -o kernel-verdicts "$HERE/kernel-verdicts.c" -I"$WORK/libbpf/include" -I"$KSRC/tools/include/uapi" "$WORK/libbpf/lib64/libbpf.a" -lelf -lz
echo "loading every program into the kernel ($(uname -r))"
./kernel-verdicts objects/*.o > kernel-verdicts.jsonl
echo "$(wc -l < kernel-verdicts.jsonl) programs: $(grep -c '"kernel":"accepted"' kernel-verdicts.jsonl) accepted, $(grep -c '"kernel":"rejected"' kernel-verdicts.jsonl) rejected -> $WORK/kernel-verdicts.jsonl"
