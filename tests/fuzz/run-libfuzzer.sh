#!/bin/sh
# make fuzz [FUZZ_SECONDS=N]: builds every fuzz target with clang's libFuzzer (+ASan+UBSan) and
# runs each for N seconds (default 60) on a corpus kept in $FUZZ_DIR (default ./_fuzz). Exits
# non-zero on the first crash; libFuzzer leaves the crashing input in $FUZZ_DIR.
set -eu
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_DIR:-$PWD/_fuzz}
mkdir -p "$out"
command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)" >&2; exit 1; }
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$top -I$top/stats -I$top/tests/fuzz"
lib="$top/stats/status.c $top/stats/codec.c $top/stats/hist.c $top/stats/hist_dispatch.c \
     $top/stats/hist_ref.c $top/stats/edges.c $top/stats/cat.c $top/stats/sketch.c"
for t in hist sketch cat; do
	echo "== fuzz_$t ($secs s)"
	# shellcheck disable=SC2086
	clang $flags $lib "$top/tests/fuzz/fuzz_$t.c" $(pkg-config --cflags --libs gsl) -lm \
		-o "$out/fuzz_$t"
	mkdir -p "$out/corpus_$t"
	(cd "$out" && "./fuzz_$t" -max_total_time="$secs" -print_final_stats=1 "corpus_$t")
done
