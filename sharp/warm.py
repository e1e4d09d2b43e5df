"""`python -m sharp.warm PAGE --out FILE`: compute one paper page's sweep for the server's warm-up.

Started by sharp.jobs.subprocess_runner at the lowest CPU priority with one torch thread; fills the disk
cache run by run, prints one JSON progress object per line on stdout ({"done", "total", "message"}),
writes the tidy frame to FILE (Parquet) and exits 0. It stops early if the server that started it exits.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import sharp  # noqa: F401 - first: it tunes OpenMP before torch loads


def main(argv: list[str] | None = None) -> int:
    from sharp.experiments import EXPERIMENTS
    from sharp.runtime import engine_threads

    p = argparse.ArgumentParser(prog="python -m sharp.warm", description=__doc__.splitlines()[0])
    p.add_argument("page", choices=sorted(EXPERIMENTS), help="the page whose sweep to compute")
    p.add_argument("--out", required=True, help="Parquet file for the tidy frame")
    p.add_argument("--settings", help="the page's settings as JSON (default: its defaults)")
    p.add_argument("--nice", type=int, default=19, help="added niceness, 0 to 19 (default 19)")
    ns = p.parse_args(argv)
    if hasattr(os, "nice") and ns.nice > 0:
        os.nice(min(ns.nice, 19))
    engine_threads()  # $SHARP_THREADS, which the parent sets to 1
    exp = EXPERIMENTS[ns.page]
    values = {**exp.defaults, **json.loads(ns.settings)} if ns.settings else None
    parent, last = os.getppid(), [0.0]

    def on_progress(done: float, total: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or message.endswith(("done", "cached")):  # at most ~10 lines a second
            last[0] = now
            print(json.dumps({"done": done, "total": total, "message": message}), flush=True)

    frame = exp.run(values, on_progress=on_progress, cancel=lambda: os.getppid() != parent, max_seconds=None)
    frame.to_parquet(ns.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
