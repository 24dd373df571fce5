#!/bin/sh
# report.html read at page width (issue 17): the report of the fixture
# database, laid out by headless chromium in a 1000 px wide window where it is
# installed (else the widest a figure can be shown at is assumed), checked by
# check_layout.py: every <img> a PNG that exists, none shrunk by more than
# 1.3x nor with text under 10 px as shown, no raw metric name (p50_us) in a
# figure's titles or labels, an "expected" column in the divergence table
# and expected divergences not shaded, what a wake latency of 0 is said.
# usage: test_layout.sh NETPOLL SOURCE_DIR
set -u
np=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x $py ] || py=python3

$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/fx.db" || fail "fixture"
"$np" report --db "$dir/fx.db" --out "$dir/out" >/dev/null || fail "report exit $?"
browser=
for b in chromium chromium-browser google-chrome; do
    command -v $b >/dev/null 2>&1 && { browser=$b; break; }
done
if [ -n "$browser" ]; then
    # the page, and a script of ours that marks each figure with the size it is shown at
    cat "$dir/out/report.html" - >"$dir/measure.html" <<'JS'
<script>
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img');
  for (var i = 0; i < imgs.length; i++)
    imgs[i].setAttribute('data-shown', imgs[i].width + 'x' + imgs[i].height);
});
</script>
JS
    timeout 90 $browser --headless --disable-gpu --no-sandbox --no-first-run \
        --user-data-dir="$dir/profile" --window-size=1000,1000 --virtual-time-budget=5000 \
        --dump-dom "file://$dir/measure.html" >"$dir/dom.html" 2>"$dir/browser.err" ||
        { tail -5 "$dir/browser.err"; fail "$browser --dump-dom"; }
    echo "ok: laid out by $browser at 1000 px"
    $py "$src/analysis/tests/check_layout.py" "$dir/out" "$dir/fx.db" --dom "$dir/dom.html" \
        --fixture || exit 1
else
    echo "note: no chromium: figure widths checked against the widest shown at 1000 px"
    $py "$src/analysis/tests/check_layout.py" "$dir/out" "$dir/fx.db" --fixture || exit 1
fi
