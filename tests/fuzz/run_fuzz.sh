#!/bin/sh
# Runs both fuzzers for SECONDS each, seeded from traces/ and from the
# crash-regression inputs in tests/fuzz/regressions/.
# usage: run_fuzz.sh BUILD_DIR SECONDS
set -eu
build=$1
secs=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
for f in fuzz_trace fuzz_replay; do
    corpus=$(mktemp -d)
    find "$src/traces" -name '*.npt' -size -4k -exec cp {} "$corpus/" \;
    cp "$src/tests/fuzz/regressions/"* "$corpus/" 2>/dev/null || true
    echo "== $f for $secs s"
    "$build/tests/fuzz/$f" -max_total_time="$secs" -max_len=4096 -timeout=10 \
        -artifact_prefix="$src/tests/fuzz/regressions/$f-" "$corpus" 2>&1 |
        grep -E "^#[0-9]+ *(DONE|pulse)|Done|ERROR|SUMMARY|cov:" | tail -3
    rm -rf "$corpus"
done
