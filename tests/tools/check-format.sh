#!/bin/sh
# One format everywhere: every C/C++ source of the project must be what clang-format makes of
# it with the root .clang-format. Prints the offending files and the fix command.
set -u
top_srcdir=${top_srcdir:-.}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
command -v "$CLANG_FORMAT" >/dev/null 2>&1 || { echo "SKIP: clang-format not found"; exit 77; }
cd "$top_srcdir" || exit 99
files=$(find stats connectors agent tests -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) \
	-not -path '*/_build*' | sort)
[ -n "$files" ] || { echo "no sources found under $top_srcdir"; exit 99; }
bad=
for f in $files; do
	if ! "$CLANG_FORMAT" --style=file "$f" | cmp -s - "$f"; then
		bad="$bad $f"
	fi
done
if [ -n "$bad" ]; then
	echo "FAIL: not clang-formatted:$bad"
	echo "fix: clang-format -i$bad"
	exit 1
fi
echo "ok: $(echo "$files" | wc -l) files formatted"
