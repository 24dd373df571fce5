#!/bin/sh
# tests/check_state_fields.sh SRCDIR - every field of struct np_poll_desc
# (core/poll_desc.h) is listed in NP_PD_STATE_FIELDS beside it, as hashed by
# the explorer's state hash or left out with a reason; and every field the
# list names as hashed is named in backend_sim/check/explored.c's state hash. A new
# field that nobody listed fails here.
# The machine explorer's state cache (backend_sim/machine/mach.c,
# "histories") likewise: every field of the scheduler's np_worker and rt
# (core/scheduler.c), of np__fd_mutex (core/fd_mutex.h) and np__sema
# (core/sema.h) is in the list beside its struct with how the cache covers
# it (SEAM, GUARDED by a lock that is SEAM, OWNED, CONST, NOT_STATE), and
# every non-constant static of backend_sim/machine/programs.c is in
# MX_PROGRAM_GLOBALS (HASHED for the programs named, or NOT_HASHED).
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
npd = len(fields)

# ---- the machine explorer's state cache ----
def struct_fields(body):
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    body = re.sub(r"\[[^\]]*\]", "", body)
    body = re.sub(r"\balignas\([^)]*\)", "", body)
    body = re.sub(r"_Atomic\(([^)]*)\)", r"_Atomic \1", body)
    out = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        for part in decl.split(","):
            out.append(re.findall(r"[A-Za-z_]\w*", part)[-1])
    return out

def field_list(text, macro, where):
    m = re.search(r"#define %s\(SEAM, GUARDED, OWNED, CONST, NOT_STATE\)(.*?)\n\n" % macro,
                  text + "\n\n", re.S)
    if not m:
        print("FAIL: no %s in %s" % (macro, where))
        return None
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return re.findall(r"\b(SEAM|GUARDED|OWNED|CONST|NOT_STATE)\((\w+)(?:,\s*(\w+))?\)", body)

sched = open(src + "/core/scheduler.c").read()
fdmu = open(src + "/core/fd_mutex.h").read()
sema = open(src + "/core/sema.h").read()
structs = [
    ("np_worker", re.search(r"typedef struct np_worker \{(.*?)\n\} np_worker;", sched, re.S),
     sched, "NP_WORKER_STATE_FIELDS", "core/scheduler.c"),
    ("rt", re.search(r"\nstatic struct \{(.*?)\n\} rt = \{", sched, re.S), sched,
     "NP_RT_STATE_FIELDS", "core/scheduler.c"),
    ("np__fd_mutex", re.search(r"typedef struct np__fd_mutex \{(.*?)\n\} np__fd_mutex;", fdmu,
                               re.S), fdmu, "NP_FDMU_STATE_FIELDS", "core/fd_mutex.h"),
    ("np__sema", re.search(r"typedef struct np__sema \{(.*?)\n\} np__sema;", sema, re.S), sema,
     "NP_SEMA_STATE_FIELDS", "core/sema.h"),
]
seams = set()
lists = []
nrt = 0
for name, m, text, macro, where in structs:
    if not m:
        print("FAIL: struct %s not found in %s" % (name, where))
        bad += 1
        continue
    fs = struct_fields(m.group(1))
    lst = field_list(text, macro, where)
    if lst is None:
        bad += 1
        continue
    lists.append((name, macro, lst))
    listed = [f for _, f, _ in lst]
    nrt += len(fs)
    for f in fs:
        if f not in listed:
            print("FAIL: %s.%s is not in %s (%s): say how the machine's state cache covers it"
                  % (name, f, macro, where))
            bad += 1
    for f in listed:
        if f not in fs:
            print("FAIL: %s names %s, which %s does not have" % (macro, f, name))
            bad += 1
    seams |= {f for k, f, _ in lst if k == "SEAM"}
for name, macro, lst in lists:
    for k, f, g in lst:
        if k == "GUARDED" and g not in seams:
            print("FAIL: %s: %s is guarded by %s, which is no SEAM lock of the lists" % (macro, f, g))
            bad += 1

prog = open(src + "/backend_sim/machine/programs.c").read()
nocomm = re.sub(r"/\*.*?\*/", "", prog, flags=re.S)
statics = re.findall(r"^static struct \{.*?^\} (\w+);", nocomm, re.S | re.M)
for m in re.finditer(r"^\s*static\s+(?!const\b)(?!struct \{)([^;(=]*?)(\w+)\s*(\[[^\]]*\])?\s*(=[^;]*)?;",
                     nocomm, re.M):
    statics.append(m.group(2))
m = re.search(r"#define MX_PROGRAM_GLOBALS\(HASHED, NOT_HASHED\)(.*?)\n\n", prog, re.S)
if not m:
    print("FAIL: no MX_PROGRAM_GLOBALS in backend_sim/machine/programs.c")
    bad += 1
    pl = []
else:
    pl = re.findall(r"\b(HASHED|NOT_HASHED)\((\w+)", re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S))
pnames = [n for _, n in pl]
for v in statics:
    if v not in pnames and v != "G":  # G: the list's own bookkeeping
        print("FAIL: programs.c's static %s is not in MX_PROGRAM_GLOBALS: the state cache would "
              "not see it" % v)
        bad += 1
for n in pnames:
    if n not in statics:
        print("FAIL: MX_PROGRAM_GLOBALS names %s, which programs.c does not have" % n)
        bad += 1
print("%d fields of the runtime's structs listed for the machine's state cache; %d statics of "
      "programs.c" % (nrt, len(statics)))
total = npd + nrt + len(statics)
print("%d passed, %d failed" % (total - bad if bad <= total else 0, bad))
sys.exit(1 if bad else 0)
PY
