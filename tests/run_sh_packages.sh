#!/bin/sh
# run.sh installs what the build and the demo use, and README.md lists
# exactly run.sh's packages. usage: run_sh_packages.sh SOURCE_DIR
set -eu
src=$1
fail() { echo "FAIL: $*"; exit 1; }
# PACKAGES=(...), possibly over several lines
pkgs=$(sed -n '/^PACKAGES=(/,/)/p' "$src/run.sh" | tr -d '()' | sed 's/^PACKAGES=//' | tr -s ' \n' '\n' | grep . | sort)
[ -n "$pkgs" ] || fail "no PACKAGES in run.sh"
# libuv1-dev: the demo's benchmark compares against libuv (bench/echo/echo_uv)
for p in libuv1-dev python3-matplotlib chromium parallel golang-1.19-go; do
    echo "$pkgs" | grep -qx "$p" || fail "run.sh does not install $p"
done
# README: the `apt-get`-style list in its first section, between `( and )`
readme=$(tr '\n' ' ' <"$src/README.md" | sed -n 's/.*install the Debian packages they need (`\([^`]*\)`).*/\1/p' |
    tr -s ' ' '\n' | grep . | sort)
[ "$readme" = "$pkgs" ] || fail "README.md lists other packages than run.sh: $(echo "$readme" | tr '\n' ' ') / $(echo "$pkgs" | tr '\n' ' ')"
echo "ok: run.sh installs $(echo "$pkgs" | wc -l) packages, as README.md says"
