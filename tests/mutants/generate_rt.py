#!/usr/bin/env python3
"""tests/mutants/generate_rt.py - writes the mutants of the runtime layer
(core/scheduler.c, core/fd_mutex.c, core/netfd.c, core/sema.c): rt_NNN_<name>.patch.

As generate.py does for poll_desc.c: one change per mutant, by one operator
(README.md), located by the function it is in (the text `old` must occur
exactly once in that function's body); the patch is `diff -u` of the pristine
file against the mutated one, for `patch -p1` from the repo root, after a
header of `# field: value` lines, which here include `# file:`.

    tests/mutants/generate_rt.py [--check | --table]

--check: write nothing, exit 1 if a patch on disk differs from what would be
written. --table: print the table of README.md's section (no patch written). Sets alternate by number (odd rt_NNN tuning, even heldout); the set
of a patch already on disk is kept.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "mutants")

# (name, file, operator, function, what, [(old, new), ...], equivalent-or-None)
M = []


def mut(name, src, op, func, what, edits, equivalent=None):
    M.append((name, "core/" + src, op, func, what, edits, equivalent))


S, F, N, E = "scheduler.c", "fd_mutex.c", "netfd.c", "sema.c"

# ---- scheduler.c: the "No lost wake-ups" pairs ------------------------------------------
mut("go_idle_no_recheck_after_sleep", S, "removal", "go_idle",
    "the sleeper's re-check after publishing itself in nsleep removed: a task queued (or the "
    "poller role let go) between its look and its publication is never seen; it sleeps",
    [("    if (work_visible() || !NP_RT_LOAD(&rt.polling)) {",
      "    if (0) {")])
mut("go_idle_recheck_no_polling", S, "condition", "go_idle",
    "the `|| !polling` disjunct of the sleeper's re-check dropped: a poller that let go of the "
    "role before the publication is not noticed, so there may be no poller while it sleeps",
    [("    if (work_visible() || !NP_RT_LOAD(&rt.polling)) {",
      "    if (work_visible()) {")])
mut("block_in_poller_no_recheck", S, "removal", "block_in_poller",
    "the poller's re-check of every queue after storing `polling` removed: a task queued "
    "before the store (whose waker saw no poller and no sleeper) waits for the poll's timeout",
    [("    if (work_visible()) {\n        NP_RT_STORE(&rt.polling, false);\n        return;\n    }\n",
      "")])
mut("wakep_no_break", S, "removal", "wakep",
    "the break is skipped: with no sleeper, a waker does not break the blocked poller",
    [("    if (NP_RT_LOAD(&rt.polling) && !NP_RT_XCHG(&rt.break_sent, true))\n        send_break();\n",
      "")])
mut("go_idle_break_sent_not_reset", S, "removal", "go_idle",
    "`break_sent = false` removed where a worker takes the poller role: after the first break "
    "every later poll is never broken",
    [("        NP_RT_STORE(&rt.break_sent, false);\n", "")])
mut("enqueue_no_wakep", S, "removal", "enqueue",
    "wakep removed after queueing a readied task: no sleeper woken, no poller broken",
    [("        gq_put(t);\n    wakep();\n", "        gq_put(t);\n")])
mut("np_go_no_wakep", S, "removal", "np_go",
    "wakep removed after queueing a new task (from np_main's thread it goes to the global "
    "queue while every worker may sleep or poll)",
    [("    wakep(); /* still under tasks_lock", "    /* still under tasks_lock")])
mut("wake_sleeper_no_post", S, "removal", "wake_sleeper",
    "a popped sleeper's semaphore is not posted: it is taken off the list but never woken",
    [("    if (s)\n        NP_OSSEM_POST(&s->sem);\n", "")])
mut("wake_sleeper_nsleep_stale", S, "removal", "wake_sleeper",
    "nsleep is not updated when a sleeper is popped: it stays higher than nsleepers",
    [("        s->asleep = false;\n        NP_RT_STORE(&rt.nsleep, rt.nsleepers);\n",
      "        s->asleep = false;\n")])
mut("block_in_poller_polling_kept", S, "removal", "block_in_poller",
    "`polling = false` removed after the blocking poll: the role is never given back, and no "
    "worker blocks in the poller again",
    [("    rt.poll_until = 0;\n    np__spin_unlock(&rt.tlock);\n    NP_RT_STORE(&rt.polling, false);\n",
      "    rt.poll_until = 0;\n    np__spin_unlock(&rt.tlock);\n")])
mut("go_idle_gq_check_removed", S, "removal", "go_idle",
    "the look at the global queue under rt.lock (before taking the poller role or sleeping) removed",
    [("    if (NP_RT_LOAD(&rt.gq_n)) {\n        NP_UNLOCK(&rt.lock);\n        return true;\n    }\n",
      "")],
    "(marked after the run) every task this early exit would see is still seen before the "
    "worker blocks: gq_n is only raised under rt.lock, so a push before this unlock is seen by "
    "block_in_poller's re-check (after `polling`) or the sleeper's re-check (after nsleep), and "
    "a push after it finds `polling` set or the sleeper published; either path then returns "
    "true as this one does (the worker loops to find_task). What differs: `polling` true for "
    "a moment, which may earn a spurious break (the next poll returns at once, as after any "
    "break), and a sleeper popped in that moment takes its post at once: steps, no outcome")

# ---- scheduler.c: run queues ----------------------------------------------------------
mut("runq_get_cas_to_store", S, "memory", "runq_get",
    "the owner's CAS on head replaced by a plain store: a thief's concurrent steal of the "
    "same slot is not noticed, the task runs twice (or the head moves back)",
    [("        if (NP_RT_CAS(&w->head, &h, h + 1))\n            return t;",
      "        NP_RT_STORE(&w->head, h + 1);\n        return t;")])
mut("runq_steal_cas_to_store", S, "memory", "runq_steal",
    "the thief's CAS on the victim's head replaced by a plain store",
    [("        if (NP_RT_CAS(&victim->head, &h, h + n))\n            break;",
      "        NP_RT_STORE(&victim->head, h + n);\n        break;")])
mut("runq_put_tail_before_slot", S, "swap", "runq_put",
    "tail published before the slot is written: a thief may copy the slot's old content",
    [("            slot_set(w, tl, t);\n            NP_RT_STORE(&w->tail, tl + 1);",
      "            NP_RT_STORE(&w->tail, tl + 1);\n            slot_set(w, tl, t);")])
mut("runq_steal_no_decrement", S, "constant", "runq_steal",
    "`n--` removed: the task returned to run is also left in the thief's ring (and one past "
    "the copied slots is read)",
    [("    n--;\n    np_task *t", "    np_task *t")])
mut("np_ready_displaced_not_requeued", S, "removal", "np_ready",
    "`t = old` removed: the task displaced from runnext is lost and the new one, already in "
    "runnext, is queued a second time",
    [("        t = old; /* the displaced one goes to the local queue */\n", "")])
mut("np_ready_runnext_ignores_sleepers", S, "condition", "np_ready",
    "the `nsleep == 0` conjunct dropped: a readied task goes to runnext although a worker sleeps",
    [("    if (w && w->cur && NP_RT_LOADX(&rt.nsleep, memory_order_relaxed) == 0 &&\n"
      "        !NP_RT_LOADX(&rt.polling, memory_order_relaxed)) {",
      "    if (w && w->cur && !NP_RT_LOADX(&rt.polling, memory_order_relaxed)) {")])
mut("block_in_poller_wakes_none", S, "constant", "block_in_poller",
    "`keep` 1 becomes the number of tasks the poll returned: after a blocking poll no sleeper is "
    "woken to steal them (the poller runs them all)",
    [("    ready_list(w, &l, 1);\n}", "    ready_list(w, &l, l.n);\n}")])
mut("run_task_parked_after_commit", S, "swap", "run_task",
    "PARKED stored after a successful commit instead of before it: a waker that finds the task "
    "through what the commit published sees RUNNING (np_ready's fatal), or its RUNNABLE is overwritten",
    [("            NP_RT_STOREX(&t->state, NP_T_PARKED, memory_order_release);\n"
      "            if (!t->commit || t->commit(t, t->commit_arg))\n                return;\n",
      "            if (!t->commit || t->commit(t, t->commit_arg)) {\n"
      "                NP_RT_STOREX(&t->state, NP_T_PARKED, memory_order_release);\n"
      "                return;\n            }\n")])
mut("run_timers_strict_due", S, "condition", "run_timers",
    "`next > now` becomes `next >= now`: a timer due exactly now is not run",
    [("    if (next > now)\n        return;", "    if (next >= now)\n        return;")])
mut("timer_set_no_break_earlier", S, "condition", "np__timer_set",
    "`when < poll_until` becomes `when > poll_until`: a timer earlier than the blocked poller's "
    "wake-up does not break it",
    [("when < rt.poll_until;", "when > rt.poll_until;")])
mut("poll_look_polling_kept", S, "removal", "poll_look",
    "the non-blocking look of a busy worker (every 61 ticks) does not give the poller role back",
    [("    np__netpoll(0, &l);\n    NP_RT_STORE(&rt.polling, false);\n", "    np__netpoll(0, &l);\n")])

# ---- fd_mutex.c ------------------------------------------------------------------------
mut("incref_ignores_closed", F, "removal", "np__fdmu_incref",
    "incref no longer fails after close: a call after close takes a reference on a destroyed "
    "descriptor (and its drop may destroy it again)",
    [("        if (old & NP_FDMU_CLOSED)\n            return NP_ECLOSED;\n", "")])
mut("rwunlock_drops_two_refs", F, "constant", "np__fdmu_rwunlock",
    "an unlock drops two references (a reference dropped twice)",
    [("uint64_t new_ = (old & ~bit) - NP_FDMU_REF;", "uint64_t new_ = (old & ~bit) - 2 * NP_FDMU_REF;")])
mut("rwlock_cas_to_store", F, "memory", "np__fdmu_rwlock",
    "the lock's CAS on the state word replaced by a plain store: a concurrent incref, decref or "
    "close is overwritten",
    [("        if (!NP_RT_CASW(&m->state, &old, new_))\n            continue;\n",
      "        NP_RT_STORE(&m->state, new_);\n")])
mut("rwlock_closed_no_decref", F, "removal", "np__fdmu_rwlock",
    "a lock waiter woken by close does not drop the reference it waited with",
    [("            *destroy = np__fdmu_decref(m);\n            return NP_ECLOSED;",
      "            return NP_ECLOSED;")])
mut("rwunlock_no_sema_release", F, "removal", "np__fdmu_rwunlock",
    "an unlock that hands a turn to a waiter (decrements the wait count) does not release the "
    "semaphore: the waiter is never woken",
    [("        if (old & wmask)\n            np__sema_release(sem);\n", "        (void)sem;\n")])
mut("close_no_wake_readers", F, "removal", "np__fdmu_close",
    "close does not wake the read-lock waiters it uncounted",
    [("    for (uint64_t n = (old & NP_FDMU_RWAIT_MASK) / NP_FDMU_RWAIT; n > 0; n--)\n"
      "        np__sema_release(&m->rsema);\n", "")])
mut("close_no_closed_check", F, "removal", "np__fdmu_close",
    "close of a closed descriptor is not refused: both closers succeed",
    [("        if (old & NP_FDMU_CLOSED)\n            return NP_ECLOSED;\n", "")])
mut("decref_whole_word", F, "condition", "np__fdmu_decref",
    "the last-reference test compares the whole word with CLOSED instead of the closed bit and "
    "the reference count only",
    [("return (new_ & (NP_FDMU_CLOSED | NP_FDMU_REF_MASK)) == NP_FDMU_CLOSED;",
      "return new_ == NP_FDMU_CLOSED;")],
    "when the reference count is 0 no lock bit is set (a lock holder holds a reference) and the "
    "wait counts are 0 (close clears them, and rwlock adds to them only while not closed, in the "
    "same CAS that checks the bit), so after close new_ & (CLOSED|REF_MASK) == CLOSED iff new_ == CLOSED; "
    "before close both are false")

# ---- sema.c ------------------------------------------------------------------------------
mut("acquire_count_not_taken", E, "removal", "np__sema_acquire",
    "an acquire that finds a count does not take it: one release lets every later acquire through",
    [("        s->count--;\n", "")])
mut("release_tail_not_reset", E, "removal", "np__sema_release",
    "the tail is not reset when the last waiter is popped: the next waiter is linked behind a "
    "gone one and never found",
    [("    if (!s->head)\n        s->tail = NULL;\n", "")])
mut("release_reads_task_after_unlock", E, "swap", "np__sema_release",
    "the waiter's task read after the lock is dropped (the comment says: read it first)",
    [("    np_task *t = w->task; /* w lives on the waiter's stack: read it first */\n"
      "    np__spin_unlock(&s->lock);\n",
      "    np__spin_unlock(&s->lock);\n"
      "    np_task *t = w->task; /* w lives on the waiter's stack: read it first */\n")],
    "a waiter's record w stays valid until its owner resumes: a task waiter is resumed only by "
    "the np_ready(t) below (its park commits by unlocking s->lock, from the worker's stack, so "
    "it is off its stack before any release can pop it), a thread waiter leaves only after "
    "done is set below; once popped, nobody else writes w. So the late read sees the same task")

# ---- netfd.c -------------------------------------------------------------------------------
mut("close_wait_no_unblock", N, "removal", "close_wait",
    "close does not unblock the pollDesc: a reader or writer parked in wait_io sleeps on, "
    "holding its reference, and close waits for it forever",
    [("    if (f->pd)\n        np_poll_unblock(f->pd); /* wakes blocked readers and writers: closing */\n",
      "")])
mut("close_wait_decref_ignored", N, "removal", "close_wait",
    "close drops its own reference but ignores that it was the last: nobody destroys",
    [("    if (np__fdmu_decref(&f->mu))\n        fd_destroy(f);\n    np__sema_acquire",
      "    np__fdmu_decref(&f->mu);\n    np__sema_acquire")])
mut("close_wait_no_relay", N, "removal", "close_wait",
    "the closer does not pass csema's token on: a second closer, or the handle's release, waits forever",
    [("    np__sema_release(&f->csema); /* let any other closer through as well */\n", "")])
mut("unlock_ignores_destroy", N, "removal", "unlock",
    "the last reference after close dropped by an unlock does not destroy (Go issue 77404)",
    [("    if (np__fdmu_rwunlock(&f->mu, read))\n        fd_destroy(f);",
      "    np__fdmu_rwunlock(&f->mu, read);")])
mut("lock_ignores_destroy", N, "removal", "lock",
    "a lock that failed on close and dropped the last reference does not destroy",
    [("    if (destroy)\n        fd_destroy(f);\n", "    (void)destroy;\n")])
mut("set_deadline_unref_twice", N, "constant", "set_deadline",
    "set_deadline drops its reference twice (a reference dropped twice)",
    [("    unref(f);\n    return err;", "    unref(f);\n    unref(f);\n    return err;")])
mut("release_no_csema_wait", N, "removal", "release",
    "the last handle's release frees the struct without taking csema (without waiting until "
    "the descriptor is destroyed)",
    [("    np__sema_acquire(&f->csema);\n    fd_free(f);", "    fd_free(f);")],
    "(marked after the run) every call holds a handle for its duration (the API's contract), "
    "so when the last handle goes no call is in progress: if this release's close_wait closed, "
    "it already waited on csema (the token taken here is its relay); if it found the descriptor "
    "closed, the closer held a handle and has released it, so its close_wait returned, after "
    "the destroy. Either way the destroy is done and csema holds one token: the acquire never "
    "blocks, and the freed struct does not care about the token")
mut("fd_destroy_sysfd_kept", N, "removal", "fd_destroy",
    "`sysfd = -1` removed after close(2): a destroyed descriptor keeps its old number",
    [("    f->sysfd = -1;\n", "")],
    "sysfd is read only by calls that hold a reference (ref/lock), and fd_destroy runs once the "
    "last reference after close is gone, after which incref and rwlock fail (closed): no correct "
    "execution reads sysfd after the destroy, so the value left there is never seen")
mut("read_eagain_returned", N, "condition", "np_read",
    "`|| f->blocking` becomes `|| !f->blocking`: a non-blocking read that says EAGAIN returns "
    "-EAGAIN to the caller instead of waiting on the pollDesc",
    [("        if (r != -EAGAIN || f->blocking)\n            break;",
      "        if (r != -EAGAIN || !f->blocking)\n            break;")])


# ------------------------------------------------------------------------------------------------

def func_span(src, func, path):
    m = re.search(r"^[A-Za-z][^\n;]*\b" + re.escape(func) + r"\([^;{]*\)\n\{\n", src, re.M)
    if not m:
        sys.exit(f"generate_rt: function {func} not found in {path}")
    end = src.find("\n}\n", m.end())
    return m.start(), end + 3


def mutate(src, func, edits, path):
    lo, hi = func_span(src, func, path)
    body = src[lo:hi]
    for old, new in edits:
        n = body.count(old)
        if n != 1:
            sys.exit(f"generate_rt: {path}:{func}: {old!r} occurs {n} times (must be once)")
        body = body.replace(old, new)
    out = src[:lo] + body + src[hi:]
    if out == src:
        sys.exit(f"generate_rt: {func}: the edit changes nothing")
    return out


def udiff(a, b, path):
    with tempfile.TemporaryDirectory() as d:
        pa, pb = os.path.join(d, "a"), os.path.join(d, "b")
        open(pa, "w").write(a)
        open(pb, "w").write(b)
        r = subprocess.run(["diff", "-u", "--label", "a/" + path, "--label", "b/" + path, pa, pb],
                           capture_output=True, text=True)
        if r.returncode != 1:
            sys.exit("generate_rt: diff failed: " + r.stderr)
        return r.stdout


def existing_set(path):
    try:
        for line in open(path):
            if line.startswith("# set:"):
                return line.split(":", 1)[1].split()[0]
            if not line.startswith("#"):
                break
    except FileNotFoundError:
        pass
    return None


def main():
    check = "--check" in sys.argv[1:]
    table = "--table" in sys.argv[1:]
    if len(set(m[0] for m in M)) != len(M):
        sys.exit("generate_rt: duplicate mutant names")
    stale = 0
    rows = []
    for i, (short, path, op, func, what, edits, equiv) in enumerate(M):
        name = f"rt_{i + 1:03d}_{short}"
        out = os.path.join(OUT, name + ".patch")
        st = existing_set(out) or ("tuning" if (i + 1) % 2 else "heldout")
        cell = what.replace("|", "\\|")
        rows.append(f"| `rt_{i + 1:03d}` | {path[5:]} | `{func}` | {op} | {st} | {cell} |")
        if table:
            continue
        src = open(os.path.join(ROOT, path)).read()
        head = [f"# mutant: {name}", f"# file: {path}", f"# operator: {op}",
                f"# function: {func}", f"# what: {what}", f"# set: {st}"]
        if equiv:
            head.append(f"# equivalent: {equiv}")
        text = "\n".join(head) + "\n" + udiff(src, mutate(src, func, edits, path), path)
        old = open(out).read() if os.path.exists(out) else None
        if old != text:
            stale += 1
            if check:
                print(f"out of date: {out}")
            elif not table:
                open(out, "w").write(text)
    if table:
        print("| mutant | file | function | operator | set | what |\n|---|---|---|---|---|---|")
        print("\n".join(rows))
        return 0
    known = set(f"rt_{i + 1:03d}_{m[0]}.patch" for i, m in enumerate(M))
    for f in sorted(os.listdir(OUT)):
        if f.startswith("rt_") and f.endswith(".patch") and f not in known:
            print(f"not in the table (remove it or add it): {f}")
            stale += 1
    print(f"{len(M)} runtime mutants, {stale} {'out of date' if check else 'written'}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
