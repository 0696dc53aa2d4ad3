#!/bin/sh
# Keeps the layering honest (STYLE.md "The layers"):
#  - stats/libstats.a references nothing but libc, libm, gsl_* (and the compiler's own runtime:
#    CPU detection, sanitizers) -- checked on the archive's undefined symbols with nm;
#  - connectors/ never sees stats/: no stats_* symbol in libconnectors.a, no stats/ include.
# Needs: top_srcdir, top_builddir (set by make check), nm.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
NM=${NM:-nm}
CC=${CC:-cc}
fail=0

libdir_of() { "$CC" -print-file-name="$1"; }
libc=$(libdir_of libc.so.6)
libm=$(libdir_of libm.so.6)
[ -f "$libc" ] || libc=/lib/x86_64-linux-gnu/libc.so.6
[ -f "$libm" ] || libm=/lib/x86_64-linux-gnu/libm.so.6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{ "$NM" -D --defined-only "$libc"; "$NM" -D --defined-only "$libm"; } 2>/dev/null |
	awk '{print $NF}' | sed 's/@.*//' | sort -u >"$tmp/system"
[ -s "$tmp/system" ] || { echo "cannot read the symbols of $libc / $libm"; exit 99; }

stats=$top_builddir/stats/libstats.a
"$NM" -g --defined-only "$stats" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u >"$tmp/defined"
"$NM" -g --undefined-only "$stats" 2>/dev/null | awk '$1 == "U" {print $2}' | sort -u >"$tmp/undefined"
[ -s "$tmp/defined" ] || { echo "no symbols in $stats"; exit 99; }

# what libstats.a needs from outside itself
comm -23 "$tmp/undefined" "$tmp/defined" >"$tmp/external"
bad=$(grep -v -E '^(gsl_|__asan_|__ubsan_|__sanitizer_|__lsan_)' "$tmp/external" |
	grep -v -x -E '__cpu_model|__cpu_indicator_init|__cpu_features2|_GLOBAL_OFFSET_TABLE_' |
	comm -23 - "$tmp/system")
if [ -n "$bad" ]; then
	echo "FAIL: stats/libstats.a references symbols outside libc, libm and GSL:"
	echo "$bad" | sed 's/^/  /'
	fail=1
else
	echo "ok: stats/libstats.a needs only libc, libm, GSL ($(wc -l <"$tmp/external") symbols)"
fi
# no symbol of another layer is defined in stats/ either
if grep -q -E '^(conn_|agent_)' "$tmp/defined"; then
	echo "FAIL: stats/libstats.a defines connector or agent symbols"
	fail=1
fi

conn=$top_builddir/connectors/libconnectors.a
if "$NM" "$conn" 2>/dev/null | awk '{print $NF}' | grep -q -E '^stats_'; then
	echo "FAIL: connectors/libconnectors.a references stats_* symbols:"
	"$NM" "$conn" | awk '{print $NF}' | grep -E '^stats_' | sort -u | sed 's/^/  /'
	fail=1
else
	echo "ok: connectors/libconnectors.a has no stats_* symbol"
fi
if grep -n -E '#[[:space:]]*include[[:space:]]*[<"](stats/|\.\./stats/)' \
	"$top_srcdir"/connectors/*.[ch] 2>/dev/null; then
	echo "FAIL: a connectors/ file includes a stats/ header"
	fail=1
fi
if grep -n -E '#[[:space:]]*include[[:space:]]*[<"](connectors|agent)/' \
	"$top_srcdir"/stats/*.[ch] 2>/dev/null; then
	echo "FAIL: a stats/ file includes a connector or agent header"
	fail=1
fi
exit $fail
