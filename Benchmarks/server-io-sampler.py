#!/usr/bin/env python3
"""Samples a running load test's server every 30 s: its disk writes (`write_bytes` from
/proc/<pid>/io, in MB/s) and the CPU of its six busiest threads (from each thread's
schedstat). The SQLite writer shows as `TP-#0` (its pool's thread), the event loops as
`NIO-SGLTN-…`. Used for Benchmarks/README.md's eighth round.

Usage: start it, then `tools/loadtest fleet`; it waits for dvic-loadtest, samples
dvic-server until it exits, and prints a line per window:
    python3 Benchmarks/server-io-sampler.py > writes.txt & tools/loadtest fleet
"""
import os, time


def pid_of(name):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() == name:
                    return int(entry)
            except OSError:
                pass
    return None


def written(pid):
    return int(next(line for line in open(f"/proc/{pid}/io") if line.startswith("write_bytes")).split()[1])


def thread_times(pid):
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            times[tid] = (name, int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0]))
        except OSError:
            pass
    return times


while not pid_of("dvic-loadtest"):
    time.sleep(0.5)
server = pid_of("dvic-server")
started = previous_at = time.time()
previous_written, previous_threads = written(server), thread_times(server)
while True:
    time.sleep(30)
    try:
        now_written, threads = written(server), thread_times(server)
    except OSError:
        break
    now = time.time()
    span = now - previous_at
    busiest = sorted(((ns - previous_threads.get(tid, ("", 0))[1]) / span / 1e7, name) for tid, (name, ns) in threads.items())[::-1][:6]
    print(f"{now - started:4.0f}s write {(now_written - previous_written) / span / 1e6:5.1f} MB/s  busiest threads "
          + ", ".join(f"{name} {cpu:.0f}%" for cpu, name in busiest), flush=True)
    previous_at, previous_written, previous_threads = now, now_written, threads
