#!/bin/sh
# The committed reference vectors (tests/data/stats/*.json) must be exactly what the committed
# generator (tests/gen/gen_stats_vectors.py, NumPy/SciPy) writes: regenerate into a temporary
# directory and compare byte for byte. Skipped (77) when SciPy is not installed.
set -u
top_srcdir=${top_srcdir:-.}
PYTHON3=${PYTHON3:-/usr/bin/python3}
"$PYTHON3" -c 'import numpy, scipy' 2>/dev/null || { echo "SKIP: no numpy/scipy for $PYTHON3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DRIFTD_VECTORS_OUT=$tmp "$PYTHON3" "$top_srcdir/tests/gen/gen_stats_vectors.py" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; exit 1; }
status=0
for f in "$top_srcdir"/tests/data/stats/*.json; do
	name=$(basename "$f")
	if ! cmp -s "$f" "$tmp/$name"; then
		echo "FAIL: tests/data/stats/$name differs from what the generator writes"
		status=1
	fi
done
for f in "$tmp"/*.json; do
	[ -f "$top_srcdir/tests/data/stats/$(basename "$f")" ] ||
		{ echo "FAIL: generator writes $(basename "$f"), not committed"; status=1; }
done
[ $status -eq 0 ] && echo "ok: $(ls "$tmp"/*.json | wc -l) vector files reproduce"
exit $status
