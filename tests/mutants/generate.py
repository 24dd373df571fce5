#!/usr/bin/env python3
"""tests/mutants/generate.py - writes the mutants of core/poll_desc.c.

Each mutant is ONE change made by one mutation operator (README.md), located
by the function it is in: the text `old` must occur exactly once in that
function's body, and is replaced by `new`. The patch is `diff -u` of the
pristine file against the mutated one, for `patch -p1` from the repo root,
after a header of `# field: value` lines (patch skips leading text).

    tests/mutants/generate.py [--check]

--check: write nothing, exit 1 if a patch on disk differs from what would be
written (the patches are out of sync with poll_desc.c, or the table changed).

The set (tuning/heldout) of a mutant already on disk is kept; mutants new to
the table are split among themselves by `shuf --random-source=<(yes 15)`, the
first half of the shuffled names held out (README.md: the held-out rule).
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = "core/poll_desc.c"
OUT = os.path.join(ROOT, "tests", "mutants")
SEED = 15

# (name, operator, function, what, [(old, new), ...], equivalent-or-None)
# Operators: constant, condition, direction, memory, removal, swap, design
# (README.md). `function` "FILE:f" means an edit at file scope that acts in f
# (the #define of a compile-time mutation switch).
M = []


def mut(name, op, func, what, edits, equivalent=None):
    M.append((name, op, func, what, edits, equivalent))


# ---- check_err -------------------------------------------------------------
mut("check_err_info_word_negated", "design", "check_err",
    "the info_word switch negated: go1.18/go1.21 read closing/rd/wd one by one "
    "(torn reads), go1.5 reads an info word nobody publishes (never closing/timeout)",
    [("    if (np__design->info_word) { /* DESIGN",
      "    if (!np__design->info_word) { /* DESIGN")])
mut("check_err_closing_reports_timeout", "constant", "check_err",
    "info word path: a closing pollDesc reports NP_POLL_TIMEOUT instead of NP_POLL_CLOSING",
    [("        if (info & NP_INFO_CLOSING)\n            return NP_POLL_CLOSING;",
      "        if (info & NP_INFO_CLOSING)\n            return NP_POLL_TIMEOUT;")])
mut("check_err_read_timeout_from_w_bit", "direction", "check_err",
    "info word path: a read reports timeout when the WRITE deadline expired (EXPIRED_W for EXPIRED_R)",
    [("(mode == NP_MODE_R && (info & NP_INFO_EXPIRED_R))",
      "(mode == NP_MODE_R && (info & NP_INFO_EXPIRED_W))")])
mut("check_err_notpollable_any_mode", "condition", "check_err",
    "the `mode == NP_MODE_R &&` conjunct of the event-error check dropped: "
    "an error-only event makes writes notpollable too",
    [("        if (mode == NP_MODE_R && (info & NP_INFO_EVENT_ERR))",
      "        if (info & NP_INFO_EVENT_ERR)")])
mut("check_err_go15_rd_le_zero", "condition", "check_err",
    "go1.5 path (no info word): `rd < 0` becomes `rd <= 0`, so a read with no deadline (0) times out",
    [("(mode == NP_MODE_R && NP_LOAD(&pd->rd) < 0)",
      "(mode == NP_MODE_R && NP_LOAD(&pd->rd) <= 0)")])
mut("check_err_go15_no_closing", "removal", "check_err",
    "go1.5 path: the closing check removed, a closing pollDesc reports timeout/ok",
    [("    if (NP_LOAD(&pd->closing))\n        return NP_POLL_CLOSING;\n", "")])

# ---- publish_info ------------------------------------------------------------
mut("publish_info_switch_negated", "design", "publish_info",
    "the info_word switch negated: go1.18/go1.21 never publish the error state, go1.5 does",
    [("    if (!np__design->info_word) /* DESIGN", "    if (np__design->info_word) /* DESIGN")])
mut("publish_info_rd_le_zero", "condition", "publish_info",
    "`rd < 0` becomes `rd <= 0`: no read deadline (0) is published as expired",
    [("    if (NP_OWN(&pd->rd) < 0)\n        bits |= NP_INFO_EXPIRED_R;",
      "    if (NP_OWN(&pd->rd) <= 0)\n        bits |= NP_INFO_EXPIRED_R;")])
mut("publish_info_w_bit_from_rd", "memory", "publish_info",
    "wrong field loaded: EXPIRED_W is computed from rd instead of wd",
    [("    if (NP_OWN(&pd->wd) < 0)\n        bits |= NP_INFO_EXPIRED_W;",
      "    if (NP_OWN(&pd->rd) < 0)\n        bits |= NP_INFO_EXPIRED_W;")])
mut("publish_info_mask_without_w", "constant", "publish_info",
    "NP_INFO_EXPIRED_W left out of the mask: once set, the write-expired bit is never cleared",
    [("    const uint32_t mask = NP_INFO_CLOSING | NP_INFO_EXPIRED_R | NP_INFO_EXPIRED_W;",
      "    const uint32_t mask = NP_INFO_CLOSING | NP_INFO_EXPIRED_R;")])
mut("publish_info_cas_to_store", "memory", "publish_info",
    "the CAS replaced by a plain store after the load: an event-error bit the poller "
    "sets between the load and the store is lost (or a cleared one comes back)",
    [("        if (NP_CAS(&pd->info, x, (x & ~mask) | bits))\n            return;",
      "        NP_STORE(&pd->info, (x & ~mask) | bits);\n        return;")])

# ---- set_event_err -----------------------------------------------------------
mut("set_event_err_tag_switch_dropped", "design", "set_event_err",
    "the event_tag switch dropped from the condition: every design checks the tag "
    "(go1.5/go1.18 no longer show issue 59545)",
    [("        if (np__design->event_tag && (x >> NP_INFO_SEQ_SHIFT) != (tag & NP_TAG_MASK))",
      "        if ((x >> NP_INFO_SEQ_SHIFT) != (tag & NP_TAG_MASK))")])
mut("set_event_err_tag_eq", "condition", "set_event_err",
    "the tag comparison negated (`!=` -> `==`): events of the CURRENT incarnation are dropped",
    [("(x >> NP_INFO_SEQ_SHIFT) != (tag & NP_TAG_MASK)) /* DESIGN */",
      "(x >> NP_INFO_SEQ_SHIFT) == (tag & NP_TAG_MASK)) /* DESIGN */")])
mut("set_event_err_already_negated", "condition", "set_event_err",
    "`== on` becomes `!= on`: returns when a change is needed and toggles the bit when it is already right",
    [("        if (((x & NP_INFO_EVENT_ERR) != 0) == on)",
      "        if (((x & NP_INFO_EVENT_ERR) != 0) != on)")])
mut("set_event_err_xor_to_or", "constant", "set_event_err",
    "`x ^ EVENT_ERR` becomes `x | EVENT_ERR`: a plain event can no longer clear the error bit",
    [("NP_CAS(&pd->info, x, x ^ NP_INFO_EVENT_ERR)", "NP_CAS(&pd->info, x, x | NP_INFO_EVENT_ERR)")])

# ---- block_commit --------------------------------------------------------------
mut("block_commit_cas_from_nil", "constant", "block_commit",
    "the commit CAS expects NIL instead of WAIT: it never succeeds, so the waiter never sleeps "
    "(it spins through wake-ups with nothing ready)",
    [("NP_CAS(c->gpp, NP_PD_WAIT, (uintptr_t)t)", "NP_CAS(c->gpp, NP_PD_NIL, (uintptr_t)t)")])
mut("block_commit_cas_to_store", "memory", "block_commit",
    "the commit CAS WAIT -> task replaced by a plain store: a notification that turned WAIT "
    "into READY/NIL meanwhile is overwritten and the task sleeps anyway",
    [("    bool parked = NP_CAS(c->gpp, NP_PD_WAIT, (uintptr_t)t);",
      "    bool parked = (NP_STORE(c->gpp, (uintptr_t)t), true);")])
mut("block_commit_rec_park_negated", "condition", "block_commit",
    "recording only: the park record is written when the commit FAILED instead of when it succeeded",
    [("        if (parked)\n            np__rec(NP_TR_PARK",
      "        if (!parked)\n            np__rec(NP_TR_PARK")])

# ---- take_ready_or_wait / no_double_wait ----------------------------------------
mut("take_ready_leaves_ready", "constant", "take_ready_or_wait",
    "consuming a notification CASes READY -> READY instead of READY -> NIL: it is never consumed",
    [("NP_CAS(g, NP_PD_READY, NP_PD_NIL)", "NP_CAS(g, NP_PD_READY, NP_PD_READY)")])
mut("take_ready_returns_false", "constant", "take_ready_or_wait",
    "after consuming READY it returns false (\"announced a wait\") instead of true",
    [("        if (NP_CAS(g, NP_PD_READY, NP_PD_NIL))\n            return true;",
      "        if (NP_CAS(g, NP_PD_READY, NP_PD_NIL))\n            return false;")])
mut("take_ready_cas_order_swapped", "swap", "take_ready_or_wait",
    "the two CASes swapped: NIL -> WAIT is tried before READY -> NIL",
    [("        if (NP_CAS(g, NP_PD_READY, NP_PD_NIL))\n            return true;\n"
      "#if NP_MUTATION_PLAIN_STORE\n"
      "        if (NP_LOAD(g) == NP_PD_NIL) {\n"
      "            NP_STORE(g, NP_PD_WAIT);\n"
      "            return false;\n"
      "        }\n"
      "#else\n"
      "        if (NP_CAS(g, NP_PD_NIL, NP_PD_WAIT))\n            return false;\n"
      "#endif\n",
      "#if NP_MUTATION_PLAIN_STORE\n"
      "        if (NP_LOAD(g) == NP_PD_NIL) {\n"
      "            NP_STORE(g, NP_PD_WAIT);\n"
      "            return false;\n"
      "        }\n"
      "#else\n"
      "        if (NP_CAS(g, NP_PD_NIL, NP_PD_WAIT))\n            return false;\n"
      "#endif\n"
      "        if (NP_CAS(g, NP_PD_READY, NP_PD_NIL))\n            return true;\n")],
    equivalent="each CAS succeeds for exactly one value of g (READY resp. NIL) and the loop "
    "tries both before the double-wait check, so every run of the mutant is a run of the "
    "original with g read at another step: a READY that arrives after NIL -> WAIT fails the "
    "commit and is returned by the exchange, the same result the original gets by consuming it")
mut("take_ready_mut_plain_store", "memory", "FILE:take_ready_or_wait",
    "the old compile-time mutation NP_MUTATION_PLAIN_STORE switched on: NIL -> WAIT by a load "
    "and a plain store instead of a CAS, so a READY stored in between is overwritten by WAIT",
    [("#define NP_MUTATION_PLAIN_STORE 0", "#define NP_MUTATION_PLAIN_STORE 1")])
mut("no_double_wait_or", "condition", "no_double_wait",
    "`&&` becomes `||`: every failed NIL -> WAIT (a readiness that raced in) is reported as a double wait",
    [("    if (v != NP_PD_READY && v != NP_PD_NIL)", "    if (v != NP_PD_READY || v != NP_PD_NIL)")])

# ---- block -------------------------------------------------------------------
mut("block_take_negated", "condition", "block",
    "the result of take_ready_or_wait negated: a consumed readiness parks, an announced wait returns ok",
    [("    if (take_ready_or_wait(pd, g, mode)) {", "    if (!take_ready_or_wait(pd, g, mode)) {")])
mut("block_rec_first_negated", "condition", "block",
    "recording only: the wait record is written on the later passes instead of the first",
    [("    if (first)\n        REC(NP_TR_WAIT", "    if (!first)\n        REC(NP_TR_WAIT")])

# ---- block_park ----------------------------------------------------------------
mut("block_park_recheck_negated", "condition", "block_park",
    "the recheck after WAIT negated: parks exactly when an error is pending",
    [("    if (check_err(pd, mode) == NP_POLL_OK)", "    if (check_err(pd, mode) != NP_POLL_OK)")])
mut("block_park_mut_no_recheck", "removal", "FILE:block_park",
    "the old compile-time mutation NP_MUTATION_NO_RECHECK switched on: the error recheck "
    "after NIL -> WAIT dropped, the task parks after a close/timeout it did not see",
    [("#define NP_MUTATION_NO_RECHECK 0", "#define NP_MUTATION_NO_RECHECK 1")])
mut("block_park_xchg_to_load_store", "memory", "block_park",
    "the exchange to NIL on wake replaced by a load and a separate store: a readiness "
    "delivered between them is erased",
    [("    uintptr_t old = NP_XCHG(g, NP_PD_NIL);",
      "    uintptr_t old = NP_LOAD(g);\n    NP_STORE(g, NP_PD_NIL);")])
mut("block_park_fatal_bound_ready", "constant", "block_park",
    "the corruption check `old > WAIT` becomes `old > READY`: a WAIT left by a wait that did "
    "not park (error on the recheck) is declared corrupted (fatal)",
    [("    if (old > NP_PD_WAIT)", "    if (old > NP_PD_READY)")])

# ---- unblock -------------------------------------------------------------------
mut("unblock_no_nil_check", "condition", "unblock",
    "the `NIL && !ioready` early return dropped: a timeout/close CASes NIL into NIL",
    [("        if (old == NP_PD_NIL && !ioready)\n            return NULL; /* nobody to tell about a timeout or close */\n",
      "")],
    equivalent="a CAS of NIL to NIL changes nothing and returns NULL; if it fails, g changed "
    "and the loop meets the new value, which the original meets too when its load runs one "
    "step later (a WAIT turned into NIL makes the waiter's commit fail, and its next check "
    "sees the error published before): the same reachable states and results")
mut("unblock_no_ready_check", "removal", "unblock",
    "the `old == READY` early return removed: a timeout/close erases a pending readiness (READY -> NIL)",
    [("        if (old == NP_PD_READY)\n            return NULL;\n", "")])
mut("unblock_ioready_values_swapped", "constant", "unblock",
    "the new values swapped: readiness leaves NIL, timeout/close leaves READY",
    [("ioready ? NP_PD_READY : NP_PD_NIL", "ioready ? NP_PD_NIL : NP_PD_READY")])
mut("unblock_wait_is_task", "condition", "unblock",
    "`old > WAIT` becomes `old >= WAIT`: the WAIT marker (2) is returned as a task pointer",
    [("return old > NP_PD_WAIT ? (np_task *)old : NULL;", "return old >= NP_PD_WAIT ? (np_task *)old : NULL;")])
mut("unblock_cas_to_store", "memory", "unblock",
    "the CAS replaced by a plain store of the value loaded before: a task that committed "
    "(WAIT -> task) in between is overwritten and never woken",
    [("        if (NP_CAS(g, old, ioready ? NP_PD_READY : NP_PD_NIL))\n"
      "            return old > NP_PD_WAIT ? (np_task *)old : NULL; /* WAIT: its commit will fail */",
      "        NP_STORE(g, ioready ? NP_PD_READY : NP_PD_NIL);\n"
      "        return old > NP_PD_WAIT ? (np_task *)old : NULL; /* WAIT: its commit will fail */")])

# ---- poll_event ----------------------------------------------------------------
mut("poll_event_tag_switch_negated", "design", "poll_event",
    "the event_tag switch negated: go1.21 accepts stale events, go1.5/go1.18 drop events by tag",
    [("    if (np__design->event_tag && /* DESIGN", "    if (!np__design->event_tag && /* DESIGN")])
mut("poll_event_error_events_negated", "design", "poll_event",
    "the error_events switch negated: go1.18/go1.21 ignore error-only events, go1.5 marks the fd",
    [("    if (np__design->error_events) /* DESIGN", "    if (!np__design->error_events) /* DESIGN")])
mut("poll_event_r_on_w_bit", "direction", "poll_event",
    "wrong direction: the read side is unblocked when the event has the WRITE bit",
    [("    if ((ev->mode & NP_EV_R) && (t = unblock(pd, NP_MODE_R, true))) {",
      "    if ((ev->mode & NP_EV_W) && (t = unblock(pd, NP_MODE_R, true))) {")])
mut("poll_event_w_unblocks_r", "direction", "poll_event",
    "wrong direction: write readiness unblocks the READ semaphore",
    [("(t = unblock(pd, NP_MODE_W, true))", "(t = unblock(pd, NP_MODE_R, true))")])
mut("poll_event_r_not_ioready", "constant", "poll_event",
    "read readiness passed as ioready=false: it leaves NIL, like a timeout, instead of READY",
    [("(t = unblock(pd, NP_MODE_R, true))", "(t = unblock(pd, NP_MODE_R, false))")])
mut("poll_event_no_push", "removal", "poll_event",
    "the read waiter woken by readiness is not appended to the run list (never made runnable)",
    [("            np__rec_woke(t);\n        np__task_list_push(out, t);\n    }\n    if ((ev->mode & NP_EV_W)",
      "            np__rec_woke(t);\n    }\n    if ((ev->mode & NP_EV_W)")])

# ---- deadline_fire --------------------------------------------------------------
mut("deadline_fire_seq_eq", "condition", "deadline_fire",
    "the stale-seq check negated: current firings do nothing, stale ones take effect",
    [("    if (seq != (r ? pd->rseq : pd->wseq)) {", "    if (seq == (r ? pd->rseq : pd->wseq)) {")])
mut("deadline_fire_seq_rw_swapped", "direction", "deadline_fire",
    "wrong direction: a read firing is checked against wseq and a write firing against rseq",
    [("(r ? pd->rseq : pd->wseq)", "(r ? pd->wseq : pd->rseq)")])
mut("deadline_fire_rd_zero", "constant", "deadline_fire",
    "a fired read deadline stores 0 (none) instead of -1 (expired)",
    [("        NP_STORE(&pd->rd, -1);", "        NP_STORE(&pd->rd, 0);")])
mut("deadline_fire_no_publish_r", "removal", "deadline_fire",
    "publish_info removed after the read deadline expires: the info word still says not expired",
    [("        NP_STORE(&pd->rd, -1);\n        publish_info(pd);\n", "        NP_STORE(&pd->rd, -1);\n")])
mut("deadline_fire_unblock_before_publish", "swap", "deadline_fire",
    "read side: unblock runs before publish_info (the Dekker pair's store-then-load order broken)",
    [("        publish_info(pd);\n        rg = unblock(pd, NP_MODE_R, false);",
      "        rg = unblock(pd, NP_MODE_R, false);\n        publish_info(pd);")])
mut("deadline_fire_no_unblock_w", "removal", "deadline_fire",
    "the write waiter is not unblocked when the write deadline fires",
    [("        wg = unblock(pd, NP_MODE_W, false);\n", "")])
mut("deadline_fire_no_ready_r", "removal", "deadline_fire",
    "NP_READY of the read waiter removed: it is unblocked (rg NIL) but never made runnable",
    [("    if (rg)\n        NP_READY(rg);\n", "")])

# ---- rearm_lazy ------------------------------------------------------------------
mut("rearm_lazy_rfn_swapped", "constant", "rearm_lazy",
    "the read timer's function swapped: deadline_r when it serves both, deadline_rw when not",
    [("combo ? deadline_rw : deadline_r", "combo ? deadline_r : deadline_rw")])
mut("rearm_lazy_r_and", "condition", "rearm_lazy",
    "`rd != rd0 || combo != combo0` becomes `&&`: a moved read deadline keeps its old timer",
    [("    } else if (rd != rd0 || combo != combo0) {\n        pd->rseq++;",
      "    } else if (rd != rd0 && combo != combo0) {\n        pd->rseq++;")])
mut("rearm_lazy_no_rseq_bump", "removal", "rearm_lazy",
    "the rseq bump removed when the read timer changes: a firing already in flight is not stale",
    [("        pd->rseq++;\n", "")])
mut("rearm_lazy_no_rt_on_false", "removal", "rearm_lazy",
    "`rt_on = false` removed after the read timer is deleted",
    [("            NP_TIMER_DEL(&pd->rt);\n            pd->rt_on = false;\n",
      "            NP_TIMER_DEL(&pd->rt);\n")],
    equivalent="rt_on stays true with no timer armed; every later path reads rt_on only to "
    "re-arm (a new rd > 0 differs from the old rd <= 0, so the else-branch sets the timer "
    "as the original does) or to delete an unarmed timer (a no-op), deadline_fire never "
    "runs for the deleted timer, and np_poll_open clears rt_on")
mut("rearm_lazy_w_combo_dropped", "condition", "rearm_lazy",
    "the `&& !combo` conjunct dropped when arming the write timer: equal deadlines arm both timers",
    [("    if (!pd->wt_on) {\n        if (wd > 0 && !combo) {", "    if (!pd->wt_on) {\n        if (wd > 0) {")])
mut("rearm_lazy_w_timer_rseq", "memory", "rearm_lazy",
    "wrong field: a new write timer is armed with rseq instead of wseq",
    [("            pd->wt_on = true;\n            NP_TIMER_SET(&pd->wt, wd, deadline_w, pd, pd->wseq);",
      "            pd->wt_on = true;\n            NP_TIMER_SET(&pd->wt, wd, deadline_w, pd, pd->rseq);")])

# ---- rearm_eager -------------------------------------------------------------------
mut("rearm_eager_no_seq_bump", "removal", "rearm_eager",
    "go1.5 path: the seq bump removed, a firing in flight survives a deadline change",
    [("    pd->rseq++;\n", "")])
mut("rearm_eager_combo_or", "condition", "rearm_eager",
    "go1.5 path: `rd > 0 && rd == wd` becomes `||`: any positive rd, or rd == wd == 0, arms the shared timer",
    [("    if (rd > 0 && rd == wd) {", "    if (rd > 0 || rd == wd) {")])
mut("rearm_eager_w_timer_fn_r", "direction", "rearm_eager",
    "go1.5 path: the write timer fires deadline_r instead of deadline_w",
    [("NP_TIMER_SET(&pd->wt, wd, deadline_w, pd, pd->wseq);", "NP_TIMER_SET(&pd->wt, wd, deadline_r, pd, pd->wseq);")])
mut("rearm_eager_no_wt_del", "removal", "rearm_eager",
    "go1.5 path: the write timer is not deleted before the timers are re-created",
    [("        NP_TIMER_DEL(&pd->wt);\n", "")])

# ---- np_poll_set_deadline ------------------------------------------------------------
mut("set_deadline_no_closing_check", "removal", "np_poll_set_deadline",
    "the closing check removed: a deadline set after pollUnblock arms timers on a closing pollDesc",
    [("    if (NP_OWN(&pd->closing)) {\n        NP_UNLOCK(&pd->lock);\n        return 0;\n    }\n", "")])
mut("set_deadline_zero_expires", "condition", "np_poll_set_deadline",
    "the `d != 0 &&` conjunct dropped: clearing a deadline (0) makes it expired (-1)",
    [("    if (d != 0 && NP_EXPIRED(d))", "    if (NP_EXPIRED(d))")])
mut("set_deadline_rd_on_mode_w", "direction", "np_poll_set_deadline",
    "wrong mode: rd is stored unless the mode is READ (i.e. for w and rw) instead of unless WRITE",
    [("    if (mode != NP_MODE_W)\n        NP_STORE(&pd->rd, d);", "    if (mode != NP_MODE_R)\n        NP_STORE(&pd->rd, d);")])
mut("set_deadline_no_publish", "removal", "np_poll_set_deadline",
    "publish_info removed after rd/wd change",
    [("    publish_info(pd);\n", "")])
mut("set_deadline_lazy_switch_negated", "design", "np_poll_set_deadline",
    "the lazy_timers switch negated: go1.18/go1.21 use the eager re-arm, go1.5 the lazy one",
    [("    if (np__design->lazy_timers) /* DESIGN */", "    if (!np__design->lazy_timers) /* DESIGN */")],
    equivalent="both re-arms are correct implementations of one timer protocol, chosen per "
    "design for cost: each keeps a timer armed at every positive deadline, at that deadline "
    "(eager re-arms the one it did not change at its own time, passed or not, and a timer "
    "armed at or before now fires at once), and each makes a firing already in flight for a "
    "moved, cleared or combined deadline stale by the seq that deadline_fire checks per "
    "direction (eager bumps both seqs, lazy the one that changed; rseq/wseq are read only "
    "there). So every deadline expires at the same time under both and the same waiters are "
    "woken; which timer object delivers an expiry, and how many are stopped and re-created, "
    "is not observable but as cost (why Go 1.12 made them lazy). Marked 2026-12-07 after it "
    "survived netpoll check (held out; its survival was already known from the last full "
    "run): the argument, not that run, is the reason")
mut("set_deadline_unblock_w_on_rd", "memory", "np_poll_set_deadline",
    "wrong field: the write waiter is unblocked when rd (not wd) is expired",
    [("    if (NP_OWN(&pd->wd) < 0)\n        wg = unblock", "    if (NP_OWN(&pd->rd) < 0)\n        wg = unblock")])
mut("set_deadline_no_ready_r", "removal", "np_poll_set_deadline",
    "NP_READY of the read waiter removed after an expired deadline unblocked it",
    [("    if (rg)\n        NP_READY(rg);\n", "")])

# ---- cache_free -------------------------------------------------------------------------
mut("cache_free_no_incarnation_bump", "constant", "cache_free",
    "the `+ 1` of the incarnation dropped: a recycled pollDesc keeps its fdseq, stale events match",
    [("((x >> NP_INFO_SEQ_SHIFT) + 1) & NP_TAG_MASK", "(x >> NP_INFO_SEQ_SHIFT) & NP_TAG_MASK")])
mut("cache_free_cas_to_store", "memory", "cache_free",
    "the incarnation CAS replaced by a plain store: a flag the poller sets between the load and the store is lost",
    [("        if (NP_CAS(&pd->info, x, (x & ((1u << NP_INFO_SEQ_SHIFT) - 1)) | seq << NP_INFO_SEQ_SHIFT))\n"
      "            break;",
      "        NP_STORE(&pd->info, (x & ((1u << NP_INFO_SEQ_SHIFT) - 1)) | seq << NP_INFO_SEQ_SHIFT);\n"
      "        break;")],
    equivalent="the bits the store can lose (EVENT_ERR, HANGUP set by a poller racing the "
    "recycle) belong to the closed incarnation: nothing reads them before np_poll_open "
    "clears every flag bit, and the incarnation part is written under the pd lock alone")
mut("cache_free_push_swapped", "swap", "cache_free",
    "the two statements of the free-list push swapped: pd->link = pd, a self-loop (the pd is handed out twice)",
    [("    pd->link = cache.free;\n    cache.free = pd;", "    cache.free = pd;\n    pd->link = cache.free;")])

# ---- np_poll_open -----------------------------------------------------------------------
mut("open_no_rseq_bump", "removal", "np_poll_open",
    "the rseq bump at open removed",
    [("    pd->rseq++;\n", "")],
    equivalent="np__poll_close requires closing, which only np_poll_unblock sets, and it bumps "
    "rseq and deletes the timers; set_deadline arms none on a closing pd, so no timer carries "
    "the seq current at open, and the bump here cannot make any firing stale that is not already")
mut("open_closing_true", "constant", "np_poll_open",
    "open stores closing = true instead of false (a reused pd stays closing in the go1.5 path)",
    [("    NP_STORE(&pd->closing, false);", "    NP_STORE(&pd->closing, true);")])
mut("open_flags_not_cleared", "removal", "np_poll_open",
    "the CAS loop clearing the info word's flags removed: closing/expired/event-error bits of the last incarnation stay",
    [("    for (;;) { /* clear every flag, event error included; keep the incarnation */\n"
      "        uint32_t x = NP_LOAD(&pd->info);\n"
      "        if (NP_CAS(&pd->info, x, x & ~((1u << NP_INFO_SEQ_SHIFT) - 1)))\n"
      "            break;\n"
      "    }\n", "")])
mut("open_rg_not_reset", "removal", "np_poll_open",
    "the store of NIL to rg removed: a READY left by the last incarnation is delivered to the new one",
    [("    NP_STORE(&pd->rg, NP_PD_NIL);\n", "")])

# ---- np__poll_close ------------------------------------------------------------------------
mut("close_closing_check_negated", "condition", "np__poll_close",
    "the closed-without-pollUnblock check negated: every proper close is fatal",
    [("    if (!NP_LOAD(&pd->closing))", "    if (NP_LOAD(&pd->closing))")])
mut("close_wg_check_loads_rg", "memory", "np__poll_close",
    "wrong field: the blocked-writer check loads rg, so a writer parked at close goes undiagnosed",
    [("    uintptr_t g = NP_LOAD(&pd->wg);", "    uintptr_t g = NP_LOAD(&pd->rg);")],
    equivalent="the check is a diagnostic of a caller's misuse (np__fatal): wg holds WAIT or a "
    "task at close only while a writer is inside a wait, which Go's fdMutex excludes (close runs "
    "once the last reference drops, and a waiter holds one) and the trace contract excludes "
    "(close needs a prior unblock and no task parked); with wg NIL or READY, as in every other "
    "execution, both versions pass the check alike, and where rg is bad both abort. Marked "
    "2026-12-07 after the mutant survived netpoll check: the argument, not that run, is the "
    "reason")
mut("close_no_cache_free", "removal", "np__poll_close",
    "cache_free removed: the pollDesc is never recycled and its incarnation never bumped",
    [("    cache_free(pd);\n    REC_END();", "    REC_END();")])

# ---- reset -------------------------------------------------------------------------------
mut("reset_err_conjunct_dropped", "condition", "reset",
    "the `!err &&` conjunct dropped: a reset that reports an error still discards readiness",
    [("    if (!err && !idle) {", "    if (!idle) {")])
mut("reset_no_store", "removal", "reset",
    "the store of NIL removed: reset no longer discards stale readiness",
    [("        NP_STORE(sema(pd, mode), NP_PD_NIL);\n", "")])
mut("reset_wrong_mode", "direction", "reset",
    "wrong direction: a reset of either mode clears rg (a write reset erases read readiness, keeps its own)",
    [("        NP_STORE(sema(pd, mode), NP_PD_NIL);", "        NP_STORE(sema(pd, NP_MODE_R), NP_PD_NIL);")])

# ---- wait_err / wait_recorded / np_poll_wait ------------------------------------------------
mut("wait_err_read_mode", "direction", "wait_err",
    "wrong mode: the non-recording check of a wait always checks the READ side",
    [("    if (!NP_RECORDING())\n        return check_err(pd, mode);",
      "    if (!NP_RECORDING())\n        return check_err(pd, NP_MODE_R);")])
mut("wait_err_rec_later_negated", "condition", "wait_err",
    "recording only: a later check returns 0 when it found an error and records when it found none",
    [("    if (!err)\n        return 0;", "    if (err)\n        return 0;")])
mut("wait_recorded_again_negated", "condition", "wait_recorded",
    "recording only: *again is set when the wait returned readiness instead of when it did not",
    [("    *again = !block_park(pd, g, mode, true);", "    *again = block_park(pd, g, mode, true);")])
mut("poll_wait_recording_negated", "condition", "np_poll_wait",
    "the NP_RECORDING() test negated: non-recording waits take the recorded path and vice versa",
    [("    if (NP_RECORDING()) {", "    if (!NP_RECORDING()) {")],
    equivalent="recording, the mutant runs wait_err's first recorded check and block without "
    "the wait's record: the composition the code runs when recording begins during a wait, "
    "whose lines are a recording the sections allow (the same per-task lines; explore --record "
    "judges them); not recording, it runs wait_recorded, whose sections record nothing "
    "(np__rec_begin finds no recording) and whose steps on rg/wg and the error state are the "
    "unrecorded wait's, in the same order - the recording lock it takes only orders it "
    "against other such waits, none of which parks holding it. A cost, not a behaviour: marked "
    "after explore --record existed and the mutant survived it (2026-12-07), see README")
mut("poll_wait_first_block_negated", "condition", "np_poll_wait",
    "the first block's result negated: readiness loops to wait again, a bare wake returns ok",
    [("        if (block(pd, mode, !recorded))", "        if (!block(pd, mode, !recorded))")])
mut("poll_wait_loop_no_err_check", "removal", "np_poll_wait",
    "the error check in the wait-again loop removed: a waiter woken by timeout/close parks again",
    [("        if ((err = wait_err(pd, mode, false, &recorded)) != 0)\n            return err;\n"
      "        if (block(pd, mode, false))",
      "        if (block(pd, mode, false))")])

# ---- np_poll_unblock ----------------------------------------------------------------------
mut("unblock_all_no_rseq_bump", "removal", "np_poll_unblock",
    "the rseq bump at pollUnblock removed: a read firing in flight is not stale after close",
    [("    pd->rseq++; /* any deadline firing in flight is now stale */\n", "")])
mut("unblock_all_no_publish", "removal", "np_poll_unblock",
    "publish_info removed after closing is set: the info word never says closing",
    [("    publish_info(pd);\n", "")])
mut("unblock_all_unblock_before_publish", "swap", "np_poll_unblock",
    "publish_info and the read unblock swapped: rg is loaded before closing is published",
    [("    publish_info(pd);\n    np_task *rg = unblock(pd, NP_MODE_R, false);",
      "    np_task *rg = unblock(pd, NP_MODE_R, false);\n    publish_info(pd);")])
mut("unblock_all_no_rt_del", "removal", "np_poll_unblock",
    "the read timer is not deleted at pollUnblock (rt_on still cleared): it stays armed",
    [("        NP_TIMER_DEL(&pd->rt);\n", "")])
mut("unblock_all_no_ready_w", "removal", "np_poll_unblock",
    "NP_READY of the write waiter removed: a writer parked at close is never made runnable",
    [("    if (wg)\n        NP_READY(wg);\n", "")])


# ------------------------------------------------------------------------------------------------

def func_span(src, func):
    """[start, end) of the definition of func: its signature line through its closing brace."""
    m = re.search(r"^[A-Za-z][^\n;]*\b" + re.escape(func) + r"\([^;{]*\)\n\{\n", src, re.M)
    if not m:
        sys.exit(f"generate: function {func} not found in {SRC}")
    end = src.find("\n}\n", m.end())
    return m.start(), end + 3


def mutate(src, func, edits):
    lo, hi = (0, len(src)) if func.startswith("FILE:") else func_span(src, func)
    body = src[lo:hi]
    for old, new in edits:
        n = body.count(old)
        if n != 1:
            sys.exit(f"generate: {func}: {old!r} occurs {n} times (must be once)")
        body = body.replace(old, new)
    out = src[:lo] + body + src[hi:]
    if out == src:
        sys.exit(f"generate: {func}: the edit changes nothing")
    return out


def udiff(a, b):
    with tempfile.TemporaryDirectory() as d:
        pa, pb = os.path.join(d, "a"), os.path.join(d, "b")
        open(pa, "w").write(a)
        open(pb, "w").write(b)
        r = subprocess.run(["diff", "-u", "--label", "a/" + SRC, "--label", "b/" + SRC, pa, pb],
                           capture_output=True, text=True)
        if r.returncode != 1:
            sys.exit("generate: diff failed: " + r.stderr)
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
    src = open(os.path.join(ROOT, SRC)).read()
    names = [f"pd_{i + 1:03d}_{m[0]}" for i, m in enumerate(M)]
    if len(set(m[0] for m in M)) != len(M):
        sys.exit("generate: duplicate mutant names")
    sets = {n: existing_set(os.path.join(OUT, n + ".patch")) for n in names}
    new = [n for n in names if sets[n] is None]
    if new:
        r = subprocess.run(["bash", "-c", f"shuf --random-source=<(yes {SEED})"],
                           input="\n".join(new) + "\n", capture_output=True, text=True, check=True)
        order = r.stdout.split()
        for k, n in enumerate(order):
            sets[n] = "heldout" if k < len(order) // 2 else "tuning"
    stale = 0
    for name, (short, op, func, what, edits, equiv) in zip(names, M):
        head = [f"# mutant: {name}", f"# operator: {op}",
                "# function: " + (func[5:] + " (its switch's #define, at file scope)"
                                  if func.startswith("FILE:") else func),
                f"# what: {what}", f"# set: {sets[name]}"]
        if equiv:
            head.append(f"# equivalent: {equiv}")
        text = "\n".join(head) + "\n" + udiff(src, mutate(src, func, edits))
        path = os.path.join(OUT, name + ".patch")
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale += 1
            if check:
                print(f"out of date: {path}")
            else:
                open(path, "w").write(text)
    known = set(n + ".patch" for n in names)
    for f in sorted(os.listdir(OUT)):
        if f.startswith("pd_") and f.endswith(".patch") and f not in known:
            print(f"not in the table (remove it or add it): {f}")
            stale += 1
    print(f"{len(M)} mutants ({sum(1 for n in names if sets[n] == 'heldout')} held out), "
          f"{stale} {'out of date' if check else 'written'}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
