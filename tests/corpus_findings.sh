#!/bin/sh
# tests/corpus_findings.sh NETPOLL [--write] - the kinds of finding of each
# corpus trace's replay under each design (traces/corpus_findings.tsv, which
# netpoll check compares with). Without --write: prints the table; with it,
# rewrites the file (only after a reviewed change of behaviour).
set -eu
np=$1
root=$(cd "$(dirname "$0")/.." && pwd)
table() {
    printf '# The kinds of finding each corpus trace'"'"'s replay has under each design (exact: go1.21\n'
    printf '# with --exact-timers), as netpoll check requires them: a finding is named by its\n'
    printf "# kind (netpoll/invariants.h: divergence, stale-event, ...), sorted, '-' for none.\n"
    printf '# Regenerate only after a reviewed change of behaviour: tests/corpus_findings.sh --write.\n'
    printf '# file\tdesign\tfindings\n'
    grep -v '^#' "$root/traces/corpus.tsv" | awk '{print $1}' | while read -r f; do
        for d in go1.5 go1.18 go1.21 exact; do
            if [ "$d" = exact ]; then
                out=$("$np" replay "$root/traces/$f" --design go1.21 --exact-timers --no-db 2>&1 || true)
            else
                out=$("$np" replay "$root/traces/$f" --design "$d" --no-db 2>&1 || true)
            fi
            names=$(echo "$out" | sed -n 's/^violation: \([a-z-]*\).*/\1/p; s/^divergence:.*/divergence/p' |
                sort -u | paste -sd, -)
            printf '%s\t%s\t%s\n' "$f" "$d" "${names:--}"
        done
    done
}
if [ "${2:-}" = --write ]; then
    table >"$root/traces/corpus_findings.tsv.tmp"
    mv "$root/traces/corpus_findings.tsv.tmp" "$root/traces/corpus_findings.tsv"
else
    table
fi
