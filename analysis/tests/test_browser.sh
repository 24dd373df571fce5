#!/bin/sh
# report.html in a real headless browser (Debian's chromium): the page marks
# <body data-images="ok N"> once every <img> has loaded with a natural size
# > 0, else "broken K of N"; --dump-dom shows the mark. The same page with
# one figure's bytes corrupted must come out "broken", so the check can fail.
# Skipped (exit 77) without chromium.  usage: test_browser.sh NETPOLL SOURCE_DIR
set -u
np=$1
src=$2
browser=
for b in chromium chromium-browser google-chrome; do
    command -v $b >/dev/null 2>&1 && { browser=$b; break; }
done
if [ -z "$browser" ]; then
    echo "SKIP: no chromium (apt-get install chromium) - report.html not checked in a browser"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x $py ] || py=python3

# dump PAGE: the body's data-images mark after the page has loaded
dump() {
    timeout 90 $browser --headless --disable-gpu --no-sandbox --no-first-run \
        --user-data-dir="$dir/profile" --virtual-time-budget=5000 --dump-dom "file://$1" \
        2>"$dir/browser.err" | grep -o 'data-images="[^"]*"' | head -1
}

$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/fx.db" || fail "fixture"
"$np" report --db "$dir/fx.db" --out "$dir/out" >/dev/null || fail "report exit $?"
n=$(grep -o '<img ' "$dir/out/report.html" | wc -l)
[ "$n" -eq 9 ] || fail "$n figures in the page, want 9"
mark=$(dump "$dir/out/report.html")
[ "$mark" = "data-images=\"ok $n\"" ] || { tail -5 "$dir/browser.err"; fail "report.html: $mark"; }
echo "ok: report.html in $browser: $mark"

# one figure's bytes replaced by valid base64 of something that is no PNG
$py - "$dir/out/report.html" "$dir/broken.html" <<'PY'
import base64, re, sys
page = open(sys.argv[1]).read()
junk = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"not an image" * 50).decode()
m = list(re.finditer(r'base64,([A-Za-z0-9+/=]+)"', page))[1]
open(sys.argv[2], "w").write(page[:m.start(1)] + junk + page[m.end(1):])
PY
mark=$(dump "$dir/broken.html")
[ "$mark" = "data-images=\"broken 1 of $n\"" ] || fail "a broken figure went unnoticed: $mark"
echo "ok: a page with a broken figure is caught: $mark"

# the page without figures (an empty database) is still a page
$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/empty.db" --empty || fail "fixture"
"$np" report --db "$dir/empty.db" --out "$dir/empty" >/dev/null || fail "report (empty) exit $?"
mark=$(dump "$dir/empty/report.html")
[ "$mark" = 'data-images="ok 0"' ] || fail "empty report.html: $mark"
echo "ok: the report of an empty database loads: $mark"
