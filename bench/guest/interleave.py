#!/usr/bin/env python3
"""Start-up overhead of inits, measured interleaved (not a test).

    bench/guest/interleave.py N /bin/true "GUEST run -- /bin/true" "tini-static -s -- /bin/true"

Runs each command once per round, N rounds, alternating the order every round,
so that the machine's drift (other work, frequency changes) falls on every
command alike, unlike hyperfine's one-command-after-the-other. Prints each
command's median wall time (spawn to reap) and, for the commands between the
first (the baseline) and the last (the reference init), their overhead over
the baseline as a ratio of the reference's.
"""
import os, sys, time, statistics as st
cmds = [c.split() for c in sys.argv[2:]]
n = int(sys.argv[1])
times = [[] for _ in cmds]
devnull = os.open(os.devnull, os.O_RDWR)
fa = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
for r in range(n):
    order = range(len(cmds)) if r % 2 == 0 else reversed(range(len(cmds)))
    for i in order:
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(cmds[i][0], cmds[i], os.environ, file_actions=fa)
        os.waitpid(pid, 0)
        times[i].append(time.perf_counter_ns() - t0)
med = [st.median(t) / 1e6 for t in times]
for c, m in zip(sys.argv[2:], med):
    print(f"{m:.3f} ms  {c}")
base = med[0]
tini = med[-1] - base
for c, m in zip(sys.argv[3:-1], med[1:-1]):
    print(f"overhead ratio vs last: {(m - base) / tini:.2f}  {c}")
