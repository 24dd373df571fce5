#!/bin/sh
# Every tracked C source and header must be as clang-format (.clang-format) lays it out.
set -eu
cd "$1"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
bad=0
for f in $files; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not clang-formatted: $f (run: clang-format -i $f)"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "format: $(echo "$files" | wc -w) files ok"
exit $bad
