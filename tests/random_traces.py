"""tests/random_traces.py SEED N DIR - N random valid traces (netpoll-trace 1)
into DIR/t<i>.npt, seeded: scenarios beyond the enumeration's K (4-12
stimuli over one or two pollDescs, reopens included), for
tests/explore_random_traces.sh.

Each incarnation of a slot gets a reader task and/or a writer task (one per
direction, as Go's fdMutex allows), each a reset then a wait; between its
open and its close: readies (r, w, rw, err=1, and of the incarnation before
after a reopen) and deadlines (clear, past, now, ahead) at times 0-300 in
steps of 50, so that several stimuli share a step; an unblock, and later a
close and maybe a reopen."""
import random
import sys

T = [0, 50, 100, 150, 200, 250, 300]
RANK = {"close": 0, "open": 1, "deadline": 2, "ready": 2, "reset": 2, "wait": 3, "unblock": 4}


def trace(rnd):
    ev = []
    g = 0
    fd = 3
    for pd in range(1, rnd.choice([1, 2, 2]) + 1):
        t = rnd.choice(T[:3])
        incs = rnd.choice([1, 1, 2])
        prev = 0  # the incarnation before, for stale readies
        for inc in range(incs):
            ev.append((t, "open", f"pd={pd} fd={fd}"))
            fd += 1
            span = [x for x in T if x >= t]
            end = t
            for mode in rnd.sample(["r", "w"], rnd.choice([1, 2])):
                g += 1
                a = rnd.choice(span)
                b = rnd.choice([x for x in span if x >= a])
                ev.append((a, "reset", f"g={g} pd={pd} mode={mode}"))
                ev.append((b, "wait", f"g={g} pd={pd} mode={mode}"))
                end = max(end, b)
            for _ in range(rnd.randint(1, 4)):
                x = rnd.choice(span)
                m = rnd.choice(["r", "w", "rw"])
                if rnd.random() < 0.45:
                    extra = " err=1" if rnd.random() < 0.2 else ""
                    if prev and rnd.random() < 0.3:
                        extra += f" tag={prev}"
                    ev.append((x, "ready", f"pd={pd} mode={m}{extra}"))
                else:
                    at = rnd.choice([0, max(x - 10, 0), x, x + 50, x + 100, x + 200, 300])
                    ev.append((x, "deadline", f"pd={pd} mode={m} at={at}"))
                end = max(end, x)
            if rnd.random() < 0.6 or inc + 1 < incs:
                u = rnd.choice(span)
                ev.append((u, "unblock", f"pd={pd}"))
                later = [x for x in T if x > max(u, end)]
                if not later:
                    break
                c = rnd.choice(later)
                ev.append((c, "close", f"pd={pd}"))
                prev = inc + 1
                t = rnd.choice([x for x in T if x >= c])
            else:
                break
    ev.sort(key=lambda e: (e[0], RANK[e[1]]))
    return "netpoll-trace 1\n" + "".join(f"{t} {k} {a}\n" for t, k, a in ev)


def main():
    seed, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    for i in range(n):
        with open(f"{out}/t{i}.npt", "w") as f:
            f.write(trace(random.Random(seed * 100000 + i)))


main()
