#!/usr/bin/env bash
# Builds the uBPF reference harness (harness.c) against uBPF's interpreter. uBPF is not ours and
# is not committed: UBPF_DIR holds its sources (see README.md for how to get them).
#
#   scripts/ubpf-reference/build.sh                 # -> $UBPF_DIR/harness-interp
#   $UBPF_DIR/harness-interp bench/programs/parse.o bench/programs/tcp1500.bin 1000000
#
# Two layouts are accepted:
# - a full clone of github.com/iovisor/ubpf: built with its CMake (Release), and the harness linked
#   against libubpf.a;
# - the cut-down copy this project measured with (vm/ubpf_vm.c, vm/ebpf.h, vm/inc/ubpf.h, no
#   CMakeLists.txt): compiled directly, with the flags of uBPF's Release build.
set -euo pipefail

UBPF_DIR=${UBPF_DIR:-/work/ubpf-scratch}
CC=${CC:-gcc}
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$UBPF_DIR"

if [ -f CMakeLists.txt ]; then
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DUBPF_SKIP_EXTERNAL=ON >/dev/null
	cmake --build build --target ubpf -j 2 >/dev/null
	"$CC" -O2 -Wall -Ivm/inc -Ibuild/vm -o harness-interp "$HERE/harness.c" build/lib/libubpf.a
else
	"$CC" -O3 -DNDEBUG -Wall -Ivm/inc -Ivm -o harness-interp "$HERE/harness.c" vm/ubpf_vm.c
fi
echo "built $UBPF_DIR/harness-interp"
