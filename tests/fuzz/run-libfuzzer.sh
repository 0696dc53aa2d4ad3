#!/bin/sh
# ./dev fuzz [SECONDS] (make fuzz, make fuzz-smoke; FUZZ_SECONDS=N): every fuzz target under
# clang's libFuzzer with ASan+UBSan, SECONDS each (default 60), FUZZ_JOBS (default: the cores)
# at a time. The libraries are built once with clang in $FUZZ_DIR/build (instrumented for
# coverage), then each tests/fuzz/fuzz_*.c is linked with -fsanitize=fuzzer and run on its
# corpus in $FUZZ_DIR/corpus_NAME, seeded with the target's own seeds and the committed corpus
# tests/fuzz/corpus/NAME. One JSON object per target: {"fuzz":NAME,"seconds":S,"execs":N,
# "corpus":FILES,"crash":null or the input's path}.
# A crash (or leak, or timeout) is copied into tests/fuzz/corpus/NAME/, where `make check`
# replays it from then on (commit it with the fix: a regression test), and the script exits 1.
# FUZZ_SAVE=1 merges what the run found into tests/fuzz/corpus/NAME (libFuzzer -merge=1: the
# smallest set with the same coverage), to be committed.
set -eu
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_DIR:-$PWD/_fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
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
deps=$(pkg-config --libs gsl jansson rdkafka hiredis libmicrohttpd nettle)
if pkg-config --exists simdjson; then deps="$deps $(pkg-config --libs simdjson) -lstdc++"; fi

# build every target, and its corpus from the seeds and the committed corpus
rm -f "$out"/result_fuzz_*
names=
for src in "$top"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	n=${t#fuzz_}
	# shellcheck disable=SC2086
	clang++ -x c -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I"$top" -I"$b" \
		-I"$top/tests/fuzz" -I"$top/tests/unit" $(pkg-config --cflags gsl jansson) -c "$src" \
		-o "$out/$t.o"
	# shellcheck disable=SC2086
	clang++ -fsanitize=fuzzer,address,undefined "$out/$t.o" $libs $deps -lm -lpthread \
		-o "$out/$t"
	mkdir -p "$out/corpus_$t"
	make -C "$b" "tests/fuzz/$t" >/dev/null && FUZZ_WRITE_SEEDS="$out/corpus_$t" "$b/tests/fuzz/$t"
	if [ -d "$top/tests/fuzz/corpus/$n" ]; then
		cp "$top/tests/fuzz/corpus/$n"/* "$out/corpus_$t/" 2>/dev/null || :
	fi
	names="$names $t"
done

# one target: fuzz it, report, keep a crash
one() {
	t=$1 n=${1#fuzz_}
	rm -rf "$out/art_$t"
	mkdir -p "$out/art_$t"
	(cd "$out/art_$t" && "../$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 "../corpus_$t" >"../log_$t" 2>&1) || :
	crash=null
	for f in "$out/art_$t"/crash-* "$out/art_$t"/leak-* "$out/art_$t"/timeout-* \
		"$out/art_$t"/oom-*; do
		[ -e "$f" ] || continue
		mkdir -p "$top/tests/fuzz/corpus/$n"
		cp "$f" "$top/tests/fuzz/corpus/$n/"
		crash="\"tests/fuzz/corpus/$n/$(basename "$f")\""
		grep -E "^==[0-9]+==ERROR|^SUMMARY" "$out/log_$t" >&2 || :
	done
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log_$t" | tail -1)
	files=$(find "$out/corpus_$t" -type f | wc -l)
	echo "{\"fuzz\":\"$n\",\"seconds\":$secs,\"execs\":${execs:-0},\"corpus\":$files,\"crash\":$crash}"
	if [ "${FUZZ_SAVE:-0}" = 1 ] && [ "$crash" = null ]; then
		mkdir -p "$out/min_$t" "$top/tests/fuzz/corpus/$n"
		(cd "$out/art_$t" && "../$t" -merge=1 "../min_$t" "../corpus_$t" >/dev/null 2>&1) || :
		find "$top/tests/fuzz/corpus/$n" -type f ! -name '*-*' -delete # not the crashes
		cp "$out/min_$t"/* "$top/tests/fuzz/corpus/$n/" 2>/dev/null || :
	fi
	[ "$crash" = null ]
}

# FUZZ_JOBS at a time; the exit status says whether any crashed
rc=0
set -- $names
while [ $# -gt 0 ]; do
	pids=
	i=0
	while [ $# -gt 0 ] && [ $i -lt "$jobs" ]; do
		one "$1" >"$out/result_$1" &
		pids="$pids $!"
		shift
		i=$((i + 1))
	done
	for p in $pids; do wait "$p" || rc=1; done
done
cat "$out"/result_fuzz_*
[ $rc -eq 0 ] && echo "fuzzing done: no crash" >&2 || echo "fuzzing found a crash: see above" >&2
exit $rc
