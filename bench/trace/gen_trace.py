#!/usr/bin/env python3
"""bench/trace/gen_trace.py - writes a valid netpoll trace (format v1,
/work/shared/TRACE_FORMAT.md) of N event lines for the replay benchmark.

The trace is a *scenario* by default: stimuli only, no `wake` and no `fire`
lines, so replay fires every deadline timer at its exact deadline (rule 5)
and computes the outcomes itself. With --wakes the generator also writes the
`wake` lines its own model predicts, so replay compares them (rule 3).

The mix, deterministic for a given --seed:
  * --slots pollDescs (default 64), each opened once at the start; every
    slot has a reader task and a writer task (2 * slots tasks);
  * tasks alternate reset / wait on their direction; a task that timed out
    first sets a new deadline (moved later, or cleared);
  * `ready` events on random directions wake parked tasks or leave
    readiness pending (consumed by the next wait, discarded by a reset);
  * deadlines set in the future (they fire at their deadline when a task is
    parked), moved, cleared, and now and then set in the past;
  * occasionally a slot is unblocked (its waiters get `closing`), closed and
    reopened (a new incarnation); tagged `ready` lines for an old
    incarnation (stale events, which go1.21 must ignore) now and then.

Validity rules the generator keeps (so that `netpoll replay` exits 0):
  * a task issues nothing while its model says it is parked, and never at
    the very time it was woken (rule 2 would allow it; we keep it simple);
  * stimuli are stamped at even times, deadlines are odd, so a timer never
    fires at a stimulus time;
  * once a direction has been woken at time t, nothing else touches that
    direction at t (a later event at the same instant could change what
    the woken task sees when it runs at the end of the step, rule 1c);
  * `close` comes strictly after its `unblock`, `open` strictly after close.

N counts every event line written (header and comments excluded), so with
--wakes the wake lines are part of N. stdlib only.
"""
import argparse
import heapq
import random
import sys

R, W = 0, 1
MODE = ("r", "w")


class Slot:
    __slots__ = ("pd", "fd", "open", "closing", "inc", "dl", "ready", "waiter",
                 "dirty", "since")

    def __init__(self, pd, fd):
        self.pd = pd
        self.fd = fd
        self.open = False
        self.closing = False
        self.inc = 0
        self.dl = [0, 0]          # absolute deadline per direction, 0 = none
        self.ready = [False, False]  # readiness nobody consumed yet
        self.waiter = [None, None]   # task parked on that direction
        self.dirty = [-1, -1]     # last time that direction woke a task
        self.since = -1           # time of the last unblock / close


class Task:
    __slots__ = ("g", "slot", "d", "parked", "woke", "phase", "need_dl")

    def __init__(self, g, slot, d):
        self.g = g
        self.slot = slot
        self.d = d
        self.parked = False
        self.woke = -1            # time of the last wake
        self.phase = "reset"      # next operation: reset, then wait
        self.need_dl = False      # timed out: sets a new deadline first


class Gen:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.t = 1000
        self.out = []
        self.n = 0
        self.slots = [Slot(i + 1, i + 3) for i in range(args.slots)]
        self.tasks = []
        for s in self.slots:
            for d in (R, W):
                self.tasks.append(Task(len(self.tasks) + 1, s, d))
        self.by_slot = {s.pd: [t for t in self.tasks if t.slot is s] for s in self.slots}
        self.timers = []          # (at, seq, slot, incarnation, direction)
        self.seq = 0
        self.stats = dict(wakes_ok=0, wakes_timeout=0, wakes_closing=0, parks=0,
                          fired=0, unblocks=0, stale=0)

    # ---- output ----------------------------------------------------------------
    def line(self, t, s):
        self.out.append("%d %s\n" % (t, s))
        self.n += 1

    def wake(self, t, task, res, parked):
        key = "wakes_" + res
        if key in self.stats:
            self.stats[key] += 1
        if parked:
            s = task.slot
            s.waiter[task.d] = None
            s.dirty[task.d] = t
            task.parked = False
            task.woke = t
        if res == "timeout":
            task.need_dl = True
        if self.a.wakes:
            self.line(t, "wake g=%d pd=%d mode=%s res=%s" % (task.g, task.slot.pd, MODE[task.d], res))

    # ---- time --------------------------------------------------------------------
    def advance(self, step):
        """Moves time forward by an even step, firing the due timers first."""
        nt = self.t + step
        while self.timers and self.timers[0][0] < nt:
            at, _, s, inc, d = heapq.heappop(self.timers)
            if not s.open or s.closing or s.inc != inc or s.dl[d] != at:
                continue  # stopped or moved
            self.stats["fired"] += 1
            w = s.waiter[d]
            if w is not None:
                self.wake(at, w, "timeout", True)
        self.t = nt

    def expired(self, s, d):
        return s.dl[d] != 0 and s.dl[d] <= self.t

    # ---- stimuli -----------------------------------------------------------------
    def set_deadline(self, s, dirs, at):
        t = self.t
        ms = "rw" if len(dirs) == 2 else MODE[dirs[0]]
        self.line(t, "deadline pd=%d mode=%s at=%d" % (s.pd, ms, at))
        for d in dirs:
            s.dl[d] = at
            if at == 0:
                continue
            if at <= t:
                w = s.waiter[d]
                if w is not None:
                    self.wake(t, w, "timeout", True)
            else:
                self.seq += 1
                heapq.heappush(self.timers, (at, self.seq, s, s.inc, d))

    def future(self):
        # odd, so it never coincides with a stimulus time
        return self.t + 2 * self.rng.randint(self.a.dl_min // 2, self.a.dl_max // 2) + 1

    def act_task(self):
        task = self.rng.choice(self.tasks)
        s, d, t = task.slot, task.d, self.t
        if not s.open or task.parked or task.woke >= t:
            return False
        if s.closing and self.rng.random() > 0.05:
            return False  # mostly, a task leaves a closing descriptor alone
        if s.dirty[d] >= t:
            return False
        if task.need_dl and not s.closing:
            task.need_dl = False
            r = self.rng.random()
            self.set_deadline(s, [d], 0 if r < 0.3 else self.future())
            return True
        if task.phase == "reset":
            self.line(t, "reset g=%d pd=%d mode=%s" % (task.g, s.pd, MODE[d]))
            if not s.closing and not self.expired(s, d):
                s.ready[d] = False
            task.phase = "wait"
            return True
        self.line(t, "wait g=%d pd=%d mode=%s" % (task.g, s.pd, MODE[d]))
        task.phase = "reset"
        if s.closing:
            self.wake(t, task, "closing", False)
        elif self.expired(s, d):
            self.wake(t, task, "timeout", False)
        elif s.ready[d]:
            s.ready[d] = False
            self.wake(t, task, "ok", False)
        else:
            task.parked = True
            s.waiter[d] = task
            self.stats["parks"] += 1
        return True

    def pick_open(self):
        s = self.rng.choice(self.slots)
        return s if s.open and not s.closing else None

    def act_ready(self):
        s = self.pick_open()
        if s is None:
            return False
        r = self.rng.random()
        dirs = [R, W] if r < 0.05 else [R] if r < 0.6 else [W]
        if any(s.dirty[d] >= self.t for d in dirs):
            return False
        ms = "rw" if len(dirs) == 2 else MODE[dirs[0]]
        tag = " tag=%d" % s.inc if self.rng.random() < 0.1 else ""  # explicit current tag
        self.line(self.t, "ready pd=%d mode=%s%s" % (s.pd, ms, tag))
        for d in dirs:
            w = s.waiter[d]
            if w is not None:
                self.wake(self.t, w, "ok", True)  # readiness consumed by the wake
            else:
                s.ready[d] = True
        return True

    def act_deadline(self):
        s = self.pick_open()
        if s is None:
            return False
        r = self.rng.random()
        dirs = [R, W] if r < 0.1 else [R] if r < 0.7 else [W]
        if any(s.dirty[d] >= self.t for d in dirs):
            return False
        r = self.rng.random()
        if r < 0.15:
            at = 0                                   # cleared
        elif r < 0.22:
            at = max(1, self.t - self.rng.randint(0, 5000))  # already past
        else:
            at = self.future()                       # set or moved
        self.set_deadline(s, dirs, at)
        return True

    def act_stale(self):
        s = self.rng.choice(self.slots)
        last = s.inc if s.open else s.inc + 1
        if last < 2:
            return False
        self.stats["stale"] += 1
        tag = self.rng.randint(1, last - 1)
        self.line(self.t, "ready pd=%d mode=%s tag=%d" % (s.pd, self.rng.choice(("r", "w", "rw")), tag))
        return True

    def act_lifecycle(self):
        s = self.rng.choice(self.slots)
        t = self.t
        if s.open and not s.closing:
            if s.dirty[R] >= t or s.dirty[W] >= t:
                return False
            self.line(t, "unblock pd=%d" % s.pd)
            self.stats["unblocks"] += 1
            s.closing = True
            s.since = t
            for d in (R, W):
                w = s.waiter[d]
                if w is not None:
                    self.wake(t, w, "closing", True)
            return True
        if s.open and s.closing:
            if s.since >= t or any(k.parked or k.woke >= t for k in self.by_slot[s.pd]):
                return False
            self.line(t, "close pd=%d" % s.pd)
            s.open = False
            s.since = t
            return True
        if s.since >= t:
            return False
        self.open(s)
        return True

    def open(self, s):
        self.line(self.t, "open pd=%d fd=%d" % (s.pd, s.fd))
        s.open, s.closing = True, False
        s.inc += 1
        s.dl = [0, 0]
        s.ready = [False, False]
        s.waiter = [None, None]
        for k in self.by_slot[s.pd]:
            k.phase, k.need_dl = "reset", False

    # ---- driver ------------------------------------------------------------------
    def run(self, f):
        a = self.a
        f.write("netpoll-trace 1\n")
        f.write("# generated by bench/trace/gen_trace.py --events %d --slots %d --seed %d%s\n"
                % (a.events, a.slots, a.seed, " --wakes" if a.wakes else ""))
        for s in self.slots:
            self.open(s)
        acts = [(0.46, self.act_task), (0.30, self.act_ready), (0.20, self.act_deadline),
                (0.004, self.act_stale), (0.012, self.act_lifecycle)]
        total = sum(w for w, _ in acts)
        fails = 0
        for _ in range(60 * a.events + 1000):  # bounded: progress is checked below
            if self.n >= a.events:
                break
            if self.rng.random() >= a.same_time:
                self.advance(2 * self.rng.randint(1, a.max_step // 2))
            r = self.rng.random() * total
            for w, fn in acts:
                r -= w
                if r < 0:
                    break
            if fn():
                fails = 0
            else:
                fails += 1
                if fails > 50:  # nothing eligible now: let time pass
                    self.advance(2)
                    fails = 0
            if len(self.out) >= 65536:
                f.write("".join(self.out))
                self.out.clear()
        else:
            sys.exit("gen_trace: no progress (bug)")
        self.last = self.t
        if a.wakes:  # the timers still armed fire after the last stimulus
            self.advance(1 << 62)
        f.write("".join(self.out))
        self.out.clear()
        # Written lines may exceed N by the few a last action produced at once
        # (with --wakes); they are counted exactly by the benchmark script.


def main():
    p = argparse.ArgumentParser(description="write a valid netpoll trace for the replay benchmark")
    p.add_argument("--events", type=int, default=1000000, help="event lines to write (default 1e6)")
    p.add_argument("--slots", type=int, default=64, help="pollDesc slots (default 64)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--wakes", action="store_true", help="also write the predicted wake lines")
    p.add_argument("--same-time", type=float, default=0.3,
                   help="probability that an event shares the previous event's time")
    p.add_argument("--max-step", type=int, default=1000, help="largest time step, ns")
    p.add_argument("--dl-min", type=int, default=20000, help="shortest future deadline, ns")
    p.add_argument("--dl-max", type=int, default=2000000, help="longest future deadline, ns")
    p.add_argument("--out", default="-", help="output file (default stdout)")
    p.add_argument("--stats", action="store_true", help="print the model's counts to stderr")
    a = p.parse_args()
    if not (1 <= a.events <= 100000000 and 1 <= a.slots <= 100000 and a.max_step >= 2
            and 0 <= a.same_time < 1 and 2 <= a.dl_min <= a.dl_max):
        p.error("bad parameters")
    g = Gen(a)
    if a.out == "-":
        g.run(sys.stdout)
    else:
        with open(a.out, "w") as f:
            g.run(f)
    if a.stats:
        print("gen_trace: %d event lines, last stimulus at t=%d ns, %s" % (g.n, g.last, g.stats), file=sys.stderr)


if __name__ == "__main__":
    main()
