"""tests/coverage_report.py - coverage.sh's listing: gcovr's JSON on stdin,
the source file as argv[1]. Prints the lines not reached and the branches
not taken, each fatal-path one marked [fatal], then the figures outside
fatal paths.

Fatal paths: the lines of an np__fatal call (with its continuation lines),
the guard whose branch leads there (the `if` line before the call), and
mode_name, which only the fatal messages call.
They run only on a bug - the mutants and the edge pass's documented aborts
reach some, correct code none - so the targets (every line, >= 95 % of
branches) are stated outside them; the whole-file figures are gcovr's
summary above."""
import json
import re
import sys

d = json.load(sys.stdin)
src = open(sys.argv[1]).read().split("\n")
fatal = set()
for i, t in enumerate(src, 1):
    if "np__fatal(" not in t or t.lstrip().startswith(("/*", "*")):
        continue
    j = i
    fatal.add(j)
    while not src[j - 1].rstrip().endswith(";"):
        j += 1
        fatal.add(j)
    k = i - 1
    while k > 0 and not src[k - 1].strip():
        k -= 1
    if re.match(r"\s*(if|else if)\b", src[k - 1]):
        fatal.add(k)
# mode_name: a function only the fatal messages call
for i, t in enumerate(src, 1):
    if re.match(r"static const char \*mode_name\(", t):
        j = i
        while src[j - 1].strip() != "}":
            fatal.add(j)
            j += 1
        fatal.add(j)
lines = [l for f in d["files"] for l in f["lines"] if not l.get("gcovr/noncode")]


def tag(n):
    return "[fatal] " if n in fatal else ""


def text(n):
    return src[n - 1].strip()


print("== lines not reached")
for l in lines:
    if l["count"] == 0:
        n = l["line_number"]
        print("  %5d  %s%s" % (n, tag(n), text(n)))
print("== branches not taken (line: branch numbers)")
for l in lines:
    miss = [str(i) for i, b in enumerate(l.get("branches", [])) if b["count"] == 0]
    if miss and l["count"] > 0:
        n = l["line_number"]
        print("  %5d  [%s]  %s%s" % (n, ",".join(miss), tag(n), text(n)))
nl = [l for l in lines if l["line_number"] not in fatal]
br = [b for l in nl for b in l.get("branches", [])]
hit_l = sum(1 for l in nl if l["count"] > 0)
hit_b = sum(1 for b in br if b["count"] > 0)
print("== outside fatal paths: lines %.1f%% (%d out of %d), branches %.1f%% (%d out of %d)"
      % (100.0 * hit_l / max(len(nl), 1), hit_l, len(nl),
         100.0 * hit_b / max(len(br), 1), hit_b, len(br)))
