#!/bin/sh
# README.md's example blocks are programs that build: a ```c block right
# after a line "<!-- example: PATH -->" must equal PATH from its first
# #include on (PATH relative to the source tree; the file's opening comment
# is left out of README). The build compiles PATH and ctest runs it.
# usage: readme_example.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
bad=0
for path in $(sed -n 's/^<!-- example: \(.*\) -->$/\1/p' "$src/README.md"); do
    n=$((n + 1))
    awk -v p="$path" '
        $0 == "<!-- example: " p " -->" { want = 1; next }
        want && /^```c$/ { inside = 1; want = 0; next }
        inside && /^```$/ { exit }
        inside { print }' "$src/README.md" >"$tmp/readme.c"
    sed -n '/^#include/,$p' "$src/$path" >"$tmp/file.c"
    if ! diff -u "$tmp/file.c" "$tmp/readme.c" >"$tmp/diff"; then
        echo "README.md's example differs from $path (- file, + README):"
        cat "$tmp/diff"
        bad=1
    fi
done
[ "$n" -gt 0 ] || { echo "readme_example: no '<!-- example: PATH -->' block in README.md"; exit 1; }
[ $bad -eq 0 ] && echo "readme_example: $n example(s) equal to their programs"
exit $bad
