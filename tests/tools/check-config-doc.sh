#!/bin/sh
# doc/configuration.md is generated from the option table of agent/config.c by agent/config_doc.c
# (STYLE.md example 8): it must be byte for byte what `driftd config-doc` writes. On a difference, prints it and the
# command that regenerates the page.
# Needs: top_srcdir, top_builddir (set by make check).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
driftd=$top_builddir/driftd
page=$top_srcdir/doc/configuration.md
[ -x "$driftd" ] || { echo "no $driftd: build it first"; exit 99; }
[ -f "$page" ] || { echo "FAIL: $page is missing"; echo "fix: $driftd config-doc >$page"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$driftd" config-doc >"$tmp/configuration.md" 2>"$tmp/stderr"; then
	echo "FAIL: $driftd config-doc failed:"
	cat "$tmp/stderr"
	exit 1
fi
if ! cmp -s "$tmp/configuration.md" "$page"; then
	echo "FAIL: doc/configuration.md differs from what agent/config.c generates:"
	diff -u "$page" "$tmp/configuration.md" | head -n 40
	echo "fix: $driftd config-doc >$page"
	exit 1
fi
echo "ok: doc/configuration.md is what agent/config.c generates ($(wc -l <"$page") lines)"
