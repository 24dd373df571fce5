#!/bin/sh
# tests/check_state_fields.sh SRCDIR - every field of struct np_poll_desc
# (core/poll_desc.h) is listed in NP_PD_STATE_FIELDS beside it, as hashed by
# the explorer's state hash or left out with a reason; and every field the
# list names as hashed is named in backend_sim/check/explored.c's state hash. A new
# field that nobody listed fails here.
set -eu
src=$1
/usr/bin/python3 - "$src" <<'PY'
import re, sys
src = sys.argv[1]
h = open(src + "/core/poll_desc.h").read()
body = re.search(r"struct np_poll_desc \{(.*?)\} __attribute__", h, re.S).group(1)
body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
fields = []
for decl in body.split(";"):
    decl = decl.strip()
    if decl:
        fields.append(re.findall(r"[A-Za-z_]\w*", decl)[-1])
lst = re.search(r"#define NP_PD_STATE_FIELDS\(HASHED, NOT_HASHED\)(.*?)\n\n", h, re.S).group(1)
listed = re.findall(r"(NOT_HASHED|HASHED)\((\w+)\)", lst)
names = [n for _, n in listed]
bad = 0
for f in fields:
    if f not in names:
        print("FAIL: np_poll_desc.%s is not in NP_PD_STATE_FIELDS (core/poll_desc.h)" % f)
        bad += 1
for n in names:
    if n not in fields:
        print("FAIL: NP_PD_STATE_FIELDS names %s, which np_poll_desc does not have" % n)
        bad += 1
r = open(src + "/backend_sim/check/explored.c").read()
hashfn = re.search(r"static uint64_t guarded_hash.*?\n}\n", r, re.S).group(0) + \
         re.search(r"static uint64_t state_hash.*?\n}\n", r, re.S).group(0)
for kind, n in listed:
    if kind == "HASHED" and not re.search(r"pd->%s\b" % n, hashfn):
        print("FAIL: %s is listed as hashed but guarded_hash/state_hash never reads pd->%s" % (n, n))
        bad += 1
print("%d fields of np_poll_desc, %d listed (%d hashed)" % (len(fields), len(names),
      sum(1 for k, _ in listed if k == "HASHED")))
print("%d passed, %d failed" % (len(fields) - bad if bad <= len(fields) else 0, bad))
sys.exit(1 if bad else 0)
PY
