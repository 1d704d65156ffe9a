#!/usr/bin/env bash
# Rebuilds the benchmark objects (npm run bench reads the committed .o files; it never needs clang).
# Needs clang-19 and libbpf-dev.
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
for src in *.c; do
	"$CLANG" -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -fdebug-compilation-dir=. -Wall -Werror -c "$src" -o "${src%.c}.o"
	echo "built ${src%.c}.o"
done
