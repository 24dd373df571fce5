#!/usr/bin/env python3
"""tests/mutants/generate_rt.py - writes the mutants of the runtime layer
(core/scheduler.c, core/fd_mutex.c, core/netfd.c, core/sema.c): rt_NNN_<name>.patch,
and of the synchronization primitives (core/sync.c): sy_NNN_<name>.patch.

As generate.py does for poll_desc.c: one change per mutant, by one operator
(README.md), located by the function it is in (the text `old` must occur
exactly once in that function's body); the patch is `diff -u` of the pristine
file against the mutated one, for `patch -p1` from the repo root, after a
header of `# field: value` lines, which here include `# file:`.

    tests/mutants/generate_rt.py [--check | --table] [rt | sy]

rt, sy: that group only (default: both; --table alone: rt). --check: write
nothing, exit 1 if a patch on disk differs from what would be written (or a
patch of the group is not in the table). --table: print the table of
README.md's section (no patch written). Sets: rt_ alternate by number (odd
tuning, even heldout); sy_ are split by generate.py's rule (the new names
shuffled by `shuf --random-source=<(yes 15)`, the first half held out). The
set of a patch already on disk is kept.
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


# ---- sync.c (sy_NNN): mutex, wait group, channels, select ----------------------------------
# Written by operator from the code, before any check ran on them (README.md); split by the
# seeded shuffle of generate.py (SY_SEED), not by number.
SY = []
SY_SEED = 15


def sy(name, op, func, what, edits, equivalent=None):
    SY.append((name, "core/sync.c", op, func, what, edits, equivalent))


# mutex: the fast path's store, trylock, unlock's release and handoff
sy("mutex_lock_no_locked_store", "removal", "np_mutex_lock",
   "`locked = 1` removed from the uncontended lock: the mutex stays free, a second locker "
   "gets it too (two owners)",
   [("    if (!x->locked) {\n        x->locked = 1;\n", "    if (!x->locked) {\n")])
sy("mutex_trylock_negated", "condition", "np_mutex_trylock",
   "trylock reports success when the mutex was locked and failure when it was free",
   [("    bool got = !x->locked;", "    bool got = x->locked;")])
sy("mutex_unlock_no_clear", "removal", "np_mutex_unlock",
   "`locked = 0` removed from an unlock with no waiter: the mutex stays locked for good",
   [("        x->locked = 0;\n", "")])
sy("mutex_unlock_head_kept", "removal", "np_mutex_unlock",
   "the handoff does not advance the queue's head: the woken waiter's record stays first, "
   "and the next unlock readies the same task again (from a gone record)",
   [("    x->waiters.head = w->next;\n", "")])
sy("mutex_unlock_tail_not_reset", "removal", "np_mutex_unlock",
   "the tail is not reset when the last waiter is handed the mutex: the next waiter is "
   "linked behind a gone record and never found",
   [("    if (!x->waiters.head)\n        x->waiters.tail = NULL;\n", "")])
sy("mutex_unlock_no_ready", "removal", "np_mutex_unlock",
   "the handoff's np_ready removed: the waiter is taken off the queue and owns the mutex, "
   "but is never woken",
   [("    np_ready(t); /* handoff", "    (void)t; /* handoff")])

# wait group: the zero test, the release of the list, the wake-ups, wait's fast path
sy("wg_add_release_nonzero", "condition", "np_waitgroup_add",
   "`count == 0` negated: waiters are released by an add that leaves the counter non-zero, "
   "and not by the one that brings it to zero",
   [("    if (x->count == 0) {", "    if (x->count != 0) {")])
sy("wg_add_list_kept", "removal", "np_waitgroup_add",
   "the released waiters are not taken off the list: a later zero readies them again, a "
   "later waiter is linked behind gone records",
   [("        x->waiters.head = x->waiters.tail = NULL;\n", "")])
sy("wg_add_no_ready", "removal", "np_waitgroup_add",
   "the released waiters are not readied: a wait that parked never returns",
   [("        np_ready(w->task);\n", "")])
sy("wg_add_next_after_ready", "swap", "np_waitgroup_add",
   "the next waiter read after np_ready of the current one (the comment says: before): the "
   "readied task may have returned and reused its record's stack",
   [("        waiter *next = w->next; /* w is gone once its task runs */\n        np_ready(w->task);\n",
     "        np_ready(w->task);\n        waiter *next = w->next; /* w is gone once its task runs */\n")])
sy("wg_wait_no_zero_check", "removal", "np_waitgroup_wait",
   "wait's `count == 0` early return removed: a wait on a counter already zero parks for good",
   [("    if (x->count == 0) {\n        np__spin_unlock(&x->lock);\n        return;\n    }\n", "")])

# channel queues: claiming a waiter, firing it
sy("sq_unlink_queued_kept", "removal", "sq_unlink",
   "`queued = false` removed: a record unlinked by a claim still looks queued, and its owner "
   "unlinks it again (with prev/next NULL: the queue's first and last are cleared)",
   [("    s->queued = false;\n", "")])
sy("sq_claim_cas_ignored", "condition", "sq_claim",
   "the claim's CAS result ignored: a waiter whose select was already claimed (by another "
   "case or its timer) is claimed again, completed twice and readied twice",
   [("        if (NP_RT_CAS(&s->sel->done, &open, 1))\n            return s;\n",
     "        (void)NP_RT_CAS(&s->sel->done, &open, 1);\n        return s;\n")])
sy("fire_ok_not_stored", "removal", "fire",
   "`ok` not stored: every operation completed by another task reports failure (a woken "
   "receiver ok = false, a woken sender NP_ECHANCLOSED)",
   [("    s->sel->ok = ok;\n", "    (void)ok;\n")])
sy("fire_index_not_stored", "removal", "fire",
   "`fired` not stored: a parked select reports case 0 whichever case fired",
   [("    s->sel->fired = s->index;\n", "")])

# close
sy("close_no_double_check", "removal", "np_chan_close",
   "the closed test removed: a second close returns 0 instead of NP_ECHANCLOSED",
   [("    if (c->closed) {\n        chan_unlock(c);\n        return NP_ECHANCLOSED;\n    }\n", "")])
sy("close_no_closed_store", "removal", "np_chan_close",
   "`closed = true` removed: the waiters are woken, but later sends succeed and later "
   "receives on the empty channel wait for good",
   [("    c->closed = true;\n", "")])
sy("close_recv_ok_true", "constant", "np_chan_close",
   "a receiver woken by close is fired with ok = true (a zero value reported as received)",
   [("        zero_elem(s->elem, c->elem_size);\n        fire(s, false);",
     "        zero_elem(s->elem, c->elem_size);\n        fire(s, true);")])
sy("close_senders_not_woken", "removal", "np_chan_close",
   "the senders' loop removed: a sender waiting at close is never woken (and stays queued)",
   [("    while ((s = sq_claim(&c->sendq))) {\n        fire(s, false);\n        *tail = s;\n"
     "        tail = &s->next;\n    }\n", "")])
sy("close_no_ready", "removal", "np_chan_close",
   "the np_ready of the woken list removed: every waiter claimed by close stays parked",
   [("        np_ready(wake->sel->task);\n", "")])

# send
sy("send_closed_ignored", "removal", "try_send",
   "the closed test removed: a send on a closed channel with room in the buffer succeeds, on "
   "a full or unbuffered one it waits for good",
   [("    if (c->closed)\n        return -1;\n", "")])
sy("send_len_not_incremented", "removal", "try_send",
   "`len++` removed: a buffered value is written and lost",
   [("        c->len++;\n", "")])
sy("send_slot_ignores_recvx", "memory", "try_send",
   "the wrong field: the slot written is len instead of recvx + len, so once recvx has "
   "moved a value overwrites a buffered one or lands where no receive looks",
   [("slot(c, (c->recvx + c->len) % c->cap)", "slot(c, c->len % c->cap)")])

# receive
sy("recv_sender_told_closed", "constant", "try_recv",
   "a waiting sender whose value was taken is fired with ok = false: its send reports "
   "NP_ECHANCLOSED although the value was received",
   [("        *wake = fire(s, true);", "        *wake = fire(s, false);")])
sy("recv_full_recvx_kept", "removal", "try_recv",
   "`recvx` not advanced when a receive from a full buffer takes the oldest value and puts "
   "the waiting sender's value in its slot: the same slot is read next, order is lost",
   [("            copy_elem(head, s->elem, c->elem_size);\n            c->recvx = (c->recvx + 1) % c->cap;\n",
     "            copy_elem(head, s->elem, c->elem_size);\n")])
sy("recv_len_not_decremented", "removal", "try_recv",
   "`len--` removed: a buffered value received stays counted, and is received again (zeroed)",
   [("        c->len--;\n", "")])
sy("recv_closed_before_buffer", "swap", "try_recv",
   "the closed test moved before the buffer test: a closed channel reports closed while "
   "buffered values remain (Go drains them first)",
   [("    if (c->len > 0) {\n        if (elem)\n            copy_elem(elem, slot(c, c->recvx), c->elem_size);\n"
     "        zero_elem(slot(c, c->recvx), c->elem_size); /* no stale copy lingers */\n"
     "        c->recvx = (c->recvx + 1) % c->cap;\n        c->len--;\n        return 1;\n    }\n"
     "    if (c->closed) {\n        zero_elem(elem, c->elem_size);\n        return -1;\n    }\n",
     "    if (c->closed) {\n        zero_elem(elem, c->elem_size);\n        return -1;\n    }\n"
     "    if (c->len > 0) {\n        if (elem)\n            copy_elem(elem, slot(c, c->recvx), c->elem_size);\n"
     "        zero_elem(slot(c, c->recvx), c->elem_size); /* no stale copy lingers */\n"
     "        c->recvx = (c->recvx + 1) % c->cap;\n        c->len--;\n        return 1;\n    }\n")])

# select: the deadline timer, the commit, the engine
sy("timeout_no_ready", "removal", "sel_timeout",
   "the timer that wins the claim does not ready the task: a select whose deadline passes "
   "never returns",
   [("        NP_RT_STORE(&s->tstate, TS_DONE);\n        np_ready(t);\n        return;\n",
     "        NP_RT_STORE(&s->tstate, TS_DONE);\n        return;\n")])
sy("timeout_tstate_not_done", "removal", "sel_timeout",
   "the winning timer does not store TS_DONE",
   [("        NP_RT_STORE(&s->tstate, TS_DONE);\n        np_ready(t);\n",
     "        np_ready(t);\n")],
   "tstate is read only by timer_wait_commit and by this function's exchange on the losing "
   "path; a timer is set once per select, so its function runs at most once, and when it "
   "wins the claim the task sees fired == SEL_TIMEOUT (stored before the np_ready that "
   "resumes it, by the only one who may ready it) and skips np__timer_del and "
   "timer_wait_commit: nobody reads tstate after this store, so leaving it ARMED changes "
   "nothing")
sy("timeout_waiting_not_readied", "removal", "sel_timeout",
   "a losing timer that finds the task waiting for it (TS_WAITING) does not ready it: the "
   "task parked in timer_wait_commit never returns",
   [("    if (NP_RT_XCHG(&s->tstate, TS_DONE) == TS_WAITING)\n        np_ready(t);\n",
     "    (void)NP_RT_XCHG(&s->tstate, TS_DONE);\n")])
sy("commit_timer_after_unlock", "swap", "sel_commit",
   "the deadline timer queued after the channel locks are released: a partner may claim "
   "and ready the select before it is set; the task's np__timer_del then finds no timer "
   "and it waits for the timer function, which runs at the deadline: a select completed "
   "at once returns only at its deadline",
   [("    if (s->deadline)\n        np__timer_set(&s->timer, s->deadline, sel_timeout, s, 0);\n"
     "    for (size_t i = n; i-- > 0;)\n        chan_unlock(locks[i]);\n",
     "    for (size_t i = n; i-- > 0;)\n        chan_unlock(locks[i]);\n"
     "    if (s->deadline)\n        np__timer_set(&s->timer, s->deadline, sel_timeout, s, 0);\n")])
sy("timer_wait_always_parks", "condition", "timer_wait_commit",
   "the commit's CAS result ignored: the task parks even when the timer function is already "
   "done with the record (TS_DONE), and nobody wakes it",
   [("    return NP_RT_CAS(&s->tstate, &armed, TS_WAITING);",
     "    (void)NP_RT_CAS(&s->tstate, &armed, TS_WAITING);\n    return true;")])
sy("select_fast_no_ready", "removal", "do_select",
   "the waiter completed by a select that did not wait (a receiver handed a value, a sender "
   "whose value was taken) is not readied",
   [("        if (wake)\n            np_ready(wake);\n", "")])
sy("select_fast_ok_true", "constant", "do_select",
   "`ok = r > 0` becomes `ok = true`: a receive on a closed, drained channel that did not "
   "wait reports a value, a send on a closed channel reports success",
   [("        cs->ok = r > 0;", "        cs->ok = true;")])
sy("select_index_zero", "constant", "do_select",
   "every queued record gets index 0: a parked select reports case 0 whichever case fired",
   [(".index = (int)i}", ".index = 0}")])
sy("select_lone_timeout_not_unlinked", "condition", "do_select",
   "the `|| fired == SEL_TIMEOUT` disjunct dropped: a lone case whose deadline passed leaves "
   "its record queued on the channel, on a stack that is gone",
   [("    if (nlocks > 1 || n > 1 || s.fired == SEL_TIMEOUT) {", "    if (nlocks > 1 || n > 1) {")])
sy("select_unlink_unqueued", "condition", "do_select",
   "the `&& queued` conjunct dropped: records already unlinked (the claimed case, stale ones "
   "dropped by a claim) are unlinked again, clearing their queue's first and last",
   [("            if (c && sgs[i].queued)", "            if (c)")])
sy("select_timer_del_negated", "condition", "do_select",
   "`!np__timer_del` negated: a select that deleted its timer parks waiting for it (nobody "
   "wakes it), one whose timer already runs returns without waiting for it",
   [("!np__timer_del(&s.timer))", "np__timer_del(&s.timer))")])


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


def shuffled_sets(names):
    """The held-out rule of generate.py: the names new to the table, shuffled with the fixed
    seed, the first half held out."""
    r = subprocess.run(["bash", "-c", f"shuf --random-source=<(yes {SY_SEED})"],
                       input="\n".join(names) + "\n", capture_output=True, text=True, check=True)
    order = r.stdout.split()
    return {n: "heldout" if k < len(order) // 2 else "tuning" for k, n in enumerate(order)}


def group(prefix, table, check, show):
    """Writes (or checks, or tabulates) one group of mutants; returns (count, stale, rows)."""
    if len(set(m[0] for m in table)) != len(table):
        sys.exit(f"generate_rt: duplicate {prefix}_ mutant names")
    names = [f"{prefix}_{i + 1:03d}_{m[0]}" for i, m in enumerate(table)]
    sets = {n: existing_set(os.path.join(OUT, n + ".patch")) for n in names}
    new = [n for n in names if sets[n] is None]
    if new and prefix == "rt":  # odd tuning, even heldout
        sets.update({n: "tuning" if int(n[3:6]) % 2 else "heldout" for n in new})
    elif new:
        sets.update(shuffled_sets(new))
    stale = 0
    rows = []
    for i, (name, (short, path, op, func, what, edits, equiv)) in enumerate(zip(names, table)):
        st = sets[name]
        cell = what.replace("|", "\\|")
        rows.append(f"| `{name[:6]}` | {path[5:]} | `{func}` | {op} | {st} | {cell} |")
        if show:
            continue
        src = open(os.path.join(ROOT, path)).read()
        head = [f"# mutant: {name}", f"# file: {path}", f"# operator: {op}",
                f"# function: {func}", f"# what: {what}", f"# set: {st}"]
        if equiv:
            head.append(f"# equivalent: {equiv}")
        text = "\n".join(head) + "\n" + udiff(src, mutate(src, func, edits, path), path)
        out = os.path.join(OUT, name + ".patch")
        old = open(out).read() if os.path.exists(out) else None
        if old != text:
            stale += 1
            if check:
                print(f"out of date: {out}")
            else:
                open(out, "w").write(text)
    if not show:
        known = set(n + ".patch" for n in names)
        for f in sorted(os.listdir(OUT)):
            if f.startswith(prefix + "_") and f.endswith(".patch") and f not in known:
                print(f"not in the table (remove it or add it): {f}")
                stale += 1
    return len(table), stale, rows


def main():
    args = sys.argv[1:]
    check = "--check" in args
    show = "--table" in args
    which = [a for a in args if a in ("rt", "sy")] or (["rt"] if show else ["rt", "sy"])
    tables = {"rt": M, "sy": SY}
    total = stale = 0
    for prefix in which:
        n, k, rows = group(prefix, tables[prefix], check, show)
        if show:
            print("| mutant | file | function | operator | set | what |\n|---|---|---|---|---|---|")
            print("\n".join(rows))
        total += n
        stale += k
    if show:
        return 0
    print(f"{total} mutants ({', '.join(which)}), "
          f"{stale} {'out of date' if check else 'written'}")
    return 1 if check and stale else 0

if __name__ == "__main__":
    sys.exit(main())
