#!/usr/bin/env bash
# netpoll's two commands (see README.md):
#   ./run.sh demo   build, then run the project's main job
#   ./run.sh test   build, then run every test: the Release build, the
#                   ASan+UBSan build, the TSan build and the ucontext build
# Both install the Debian packages they need when run as root, and print the
# exact install command otherwise.
set -euo pipefail
cd "$(dirname "$0")"

# clang: the TSan build uses it (gcc 12's libtsan runs out of memory
# mappings with the 10,000 task fibers of the scheduler test).
# golang-1.19-go: the go_parity test runs the same scenarios in Go 1.19.
# python3-matplotlib: `netpoll report` (analysis/report.py) draws the plots;
# chromium: the analysis_browser test loads report.html headless.
# parallel: the explore_parallel test runs shards through GNU parallel.
# patch: tests/mutation.sh applies the mutants of core/poll_desc.c.
# libuv1-dev: the demo's benchmark compares against libuv (bench/echo builds
# echo_uv only when pkg-config finds libuv).
PACKAGES=(cmake make gcc clang clang-format libc6-dev pkgconf libcunit1-dev libsqlite3-dev python3 git golang-1.19-go
    python3-matplotlib chromium parallel libuv1-dev patch)
JOBS=$(nproc 2>/dev/null || echo 2)

need_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "run.sh: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "run.sh: missing packages; install them with:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        exit 2
    fi
}

# build DIR [cmake options...]
build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" "$@" >/dev/null || { rm -rf "$dir" && cmake -S . -B "$dir" "$@" >/dev/null; }
    cmake --build "$dir" -j "$JOBS"
}

# check DIR: run the suite of one build
check() {
    (cd "$1" && ctest --output-on-failure -j "$JOBS" --timeout 300)
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
demo)
    need_packages
    build build -DCMAKE_BUILD_TYPE=Release >/dev/null
    exec ./build/cli/netpoll demo "$@"
    ;;
test)
    need_packages
    echo "== Release build"
    build build -DCMAKE_BUILD_TYPE=Release
    check build
    echo "== ASan+UBSan build"
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DNETPOLL_SANITIZE=address
    check build-asan
    echo "== TSan build"
    CC=clang build build-tsan -DCMAKE_BUILD_TYPE=Debug -DNETPOLL_SANITIZE=thread
    check build-tsan
    echo "== ucontext build (the portable context-switch fallback)"
    build build-uc -DCMAKE_BUILD_TYPE=Release -DNETPOLL_CTX=ucontext
    check build-uc
    ;;
*)
    echo "usage: ./run.sh demo [--out DIR] [--seconds S] | ./run.sh test" >&2
    exit 2
    ;;
esac
