#!/bin/sh
# bench/RESULTS.md opens with the current figure per target (STYLE.md, 11):
# its first section is "Current figures", one table whose every row has a
# figure, a target, met or not, a date, a commit and a command; the dated
# history follows. usage: results_md.sh SOURCE_DIR
set -eu
f=$1/bench/RESULTS.md
fail() { echo "FAIL: $*"; exit 1; }
[ "$(grep -m1 '^## ' "$f")" = "## Current figures" ] || fail "the first section is not 'Current figures'"
# the table: from its header to the first line that is not a row
rows=$(awk '/^## Current figures/ { on = 1 } on && /^\| what \|/ { t = 1; next } t && /^\|---/ { next }
    t && /^\|/ { print; next } t { exit }' "$f")
[ -n "$rows" ] || fail "no table of current figures"
n=0
echo "$rows" | while IFS= read -r row; do
    cells=$(echo "$row" | awk -F'|' '{ print NF - 2 }')
    [ "$cells" -eq 7 ] || fail "not 7 cells: $row"
    date=$(echo "$row" | awk -F'|' '{ print $6 }')
    commit=$(echo "$row" | awk -F'|' '{ print $7 }')
    echo "$date" | grep -Eq '20[0-9]{2}-[0-9]{2}-[0-9]{2}' || fail "no date: $row"
    echo "$commit" | grep -Eq '[0-9a-f]{7}' || fail "no commit: $row"
done
grep -q '^# History\|^The history follows' "$f" || fail "no history after the table"
echo "ok: RESULTS.md opens with $(echo "$rows" | wc -l) current figures"
