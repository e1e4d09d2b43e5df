"""The server's own work, on its pool, in-process (no browser): how long the warm-up of every page takes
with an empty store (`--warm`), and a live visitor's run with and without the warm-up beside it (`--live`).

Warm-up: every page's default (sharp.experiments.WARM) submitted as background work to a Pool as the
server's start-up makes it (sharp.serve.pool.shared), with an empty store; prints each page's finishing time
and the total, beside the target (within 30 s on an idle machine).

Live: the target is that while the warm-up runs, a live visitor's run finishes within 15% of the time it takes
with the warm-up off. This drives the server's machinery in-process (no browser): a Pool as the server
makes it, the live page's default run (sharp.serve.live_run.LiveRun, not read from the store) wanted by a
playing visitor as the page wants it (every 0.12 s), and, in the "warm" case, every page's default submitted as
background work at the same moment, with an empty store. Alternates the two cases --repeat times and prints each
time and the ratio of the medians.

    .venv/bin/python scripts/serve_bench.py --warm
    .venv/bin/python scripts/serve_bench.py --live --repeat 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one(warm: bool) -> tuple[float, int]:
    """Seconds for the default live run to finish; and how many warm-up jobs finished meanwhile."""
    from sharp.experiments import WARM
    from sharp.experiments.race import DEFAULTS
    from sharp.serve.live_run import LiveRun
    from sharp.serve.pool import Pool
    from sharp.serve.warm import warm_up

    with tempfile.TemporaryDirectory(prefix="sharp-bench-") as tmp:
        os.environ["SHARP_CACHE_DIR"] = tmp
        pool = Pool()  # the server's: $SHARP_WORKERS, else cores / torch threads per job (sharp.settings)
        try:
            settings = DEFAULTS.run_part()
            t0 = time.monotonic()
            entry = pool.get(settings, lambda: LiveRun.start(settings, stored=False))
            jobs = warm_up(WARM, pool) if warm else []
            while not entry.finished and time.monotonic() - t0 < 600:  # bounded
                pool.want(entry)
                time.sleep(0.12)  # the live page's tick
            return time.monotonic() - t0, sum(j.finished for j in jobs)
        finally:
            pool.close()


def warm_times() -> None:
    """Each page's default computed as background work with an empty store: seconds to each one's end."""
    from sharp.experiments import WARM
    from sharp.serve.pool import Pool
    from sharp.serve.warm import warm_up

    with tempfile.TemporaryDirectory(prefix="sharp-bench-") as tmp:
        os.environ["SHARP_CACHE_DIR"] = tmp
        pool = Pool()  # the server's: $SHARP_WORKERS, else cores / torch threads per job (sharp.settings)
        try:
            t0, cpu0 = time.monotonic(), time.process_time()
            for exp, entry in zip(WARM, warm_up(WARM, pool)):
                entry.wait(900)
                print(f"{exp.page:<10} {entry.state:<9} at {time.monotonic() - t0:6.1f} s", flush=True)
            print(f"warm-up of every page: {time.monotonic() - t0:.1f} s wall-clock, "
                  f"{time.process_time() - cpu0:.1f} s CPU; load average {os.getloadavg()[0]:.1f} "
                  "(target: within 30 s on an idle machine)")
        finally:
            pool.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warm", action="store_true", help="time the warm-up of every page")
    p.add_argument("--live", action="store_true", help="time the live default run with and without the warm-up")
    p.add_argument("--repeat", type=int, default=3, help="--live: rounds of the two cases (default 3)")
    ns = p.parse_args()
    import sharp

    print(f"torch threads: {sharp.engine_threads()}", flush=True)
    if ns.warm or not ns.live:
        warm_times()
    if not ns.live:
        return
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(ns.repeat):
        for warm in (False, True):
            s, finished = one(warm)
            times[warm].append(s)
            print(f"run {i + 1}: warm-up {'on ' if warm else 'off'}  {s:6.2f} s"
                  + (f"  ({finished} of 6 warm-up jobs finished meanwhile)" if warm else ""), flush=True)
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"median: off {off:.2f} s, on {on:.2f} s, ratio {on / off:.3f} (target at most 1.15)")


if __name__ == "__main__":
    main()
