#!/bin/sh
# ./dev fuzz [SECONDS] (or make fuzz FUZZ_SECONDS=N): every fuzz target under clang's libFuzzer
# with ASan+UBSan, SECONDS each (default 60). The libraries are built once with clang in
# $FUZZ_DIR/build (instrumented for coverage), then each tests/fuzz/fuzz_*.c is linked with
# -fsanitize=fuzzer and run on its corpus in $FUZZ_DIR/corpus_NAME, seeded with the target's own
# seeds. Exits non-zero on the first crash; libFuzzer leaves the crashing input in $FUZZ_DIR.
set -eu
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_DIR:-$PWD/_fuzz}
command -v clang >/dev/null || { echo "fuzzing needs clang (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p "$out/build"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all"
if [ ! -f "$out/build/Makefile" ]; then
	(cd "$out/build" && "$top/configure" CC=clang CXX=clang++ CFLAGS="-g -O1 $san" \
		CXXFLAGS="-g -O1 $san" >/dev/null)
fi
make -C "$out/build" -j"$(nproc)" stats/libstats.a connectors/libconnectors.a \
	agent/libagent.a >/dev/null
b=$out/build
libs="$b/agent/libagent.a $b/connectors/libconnectors.a $b/stats/libstats.a"
deps=$(pkg-config --libs gsl jansson rdkafka hiredis libmicrohttpd)
if pkg-config --exists simdjson; then deps="$deps $(pkg-config --libs simdjson) -lstdc++"; fi
for src in "$top"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	echo "== $t ($secs s)"
	# shellcheck disable=SC2086
	clang++ -x c -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I"$top" -I"$b" \
		-I"$top/tests/fuzz" -I"$top/tests/unit" $(pkg-config --cflags gsl jansson) -c "$src" \
		-o "$out/$t.o"
	# shellcheck disable=SC2086
	clang++ -fsanitize=fuzzer,address,undefined "$out/$t.o" $libs $deps -lm -o "$out/$t"
	mkdir -p "$out/corpus_$t"
	make -C "$b" "tests/fuzz/$t" >/dev/null && FUZZ_WRITE_SEEDS="$out/corpus_$t" "$b/tests/fuzz/$t"
	(cd "$out" && "./$t" -max_total_time="$secs" -print_final_stats=1 "corpus_$t" 2>&1 |
		grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" || true)
	for f in "$out"/crash-* "$out"/leak-* "$out"/timeout-*; do
		[ -e "$f" ] && { echo "$t: $f" >&2; exit 1; }
	done
done
echo "fuzzing done: no crash"
