#!/bin/sh
# Installs the build into a scratch prefix and builds tests/consumer/hello.c
# against the installed copy twice: with pkg-config and with find_package;
# then runs the installed netpoll program (its RPATH finds the library).
# usage: install_consumer.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name netpoll.pc | head -n 1)
[ -n "$pc" ] || { echo "install_consumer: no netpoll.pc installed" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
[ -f "$tmp/prefix/include/netpoll/netpoll.h" ] || { echo "install_consumer: headers missing" >&2; exit 1; }

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$src/tests/consumer/hello.c" $(pkg-config --cflags --libs netpoll) \
   -Wl,-rpath,"$libdir" -o "$tmp/hello_pc"
"$tmp/hello_pc"

echo "== find_package"
cmake -S "$src/tests/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/hello"

echo "== the installed netpoll"
np=$tmp/prefix/bin/netpoll
[ -x "$np" ] || { echo "install_consumer: bin/netpoll not installed" >&2; exit 1; }
env -u LD_LIBRARY_PATH "$np" --help >/dev/null
env -u LD_LIBRARY_PATH "$np" replay "$src/traces/example.npt" --no-db
# and from another folder, through a symbolic link ($ORIGIN is the real file's)
ln -s "$np" "$tmp/np_link"
(cd / && env -u LD_LIBRARY_PATH "$tmp/np_link" replay "$src/traces/scenarios/read_ready.npt" --no-db)
