#!/usr/bin/env python3
"""Samples VmRSS/VmHWM (+ threads, fds, anon) of PID every INTERVAL s into CSV; phase read from a file."""
import os, sys, time
pid, out, interval, phasefile = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
with open(out, "w") as f:
    f.write("elapsed_s,phase,vmrss_kb,vmhwm_kb,threads,fds,rss_anon_kb\n"); f.flush()
    while True:
        try:
            st = {l.split(":")[0]: l.split(":")[1].strip() for l in open(f"/proc/{pid}/status")}
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except (FileNotFoundError, ProcessLookupError):
            break
        try: phase = open(phasefile).read().strip()
        except OSError: phase = "?"
        kb = lambda k: st.get(k, "0 kB").split()[0]
        f.write(f"{time.monotonic()-t0:.0f},{phase},{kb('VmRSS')},{kb('VmHWM')},{st['Threads']},{fds},{kb('RssAnon')}\n"); f.flush()
        time.sleep(interval - ((time.monotonic() - t0) % interval))
