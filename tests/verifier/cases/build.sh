#!/usr/bin/env bash
# Rebuilds the verifier cases (X.c -> X.o) and, with --kernel, records the running kernel's verdict
# on each program in kernel-verdicts.json (needs root). The tests only read the committed outputs.
#
#   tests/verifier/cases/build.sh            # objects
#   sudo tests/verifier/cases/build.sh --kernel
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
# -fdebug-compilation-dir keeps the checkout path out of the objects, so rebuilds are byte-identical.
CFLAGS=(-O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -fdebug-compilation-dir=. -Wall -Werror)
for src in *.c; do
	"$CLANG" "${CFLAGS[@]}" -c "$src" -o "${src%.c}.o"
done
echo "built $(ls *.o | wc -l) objects"

if [ "${1:-}" = --kernel ]; then
	tool=$(mktemp -d)/kernel-verdicts
	gcc -O1 -o "$tool" ../../../scripts/verifier-selftests/kernel-verdicts.c -lbpf -lelf -lz
	"$tool" *.o | node -e '
		const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
		const out = {};
		for (const l of lines) out[l.program] = { kernel: l.kernel, message: l.kernel === "rejected" ? l.log.split("\n").filter((x) => x && !/^(verification time|stack depth|processed)/.test(x)).at(-1) ?? "" : "" };
		process.stdout.write(JSON.stringify(out, null, 2) + "\n");' > kernel-verdicts.json
	echo "kernel verdicts ($(uname -r)) -> kernel-verdicts.json"
fi
