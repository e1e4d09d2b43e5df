"""The server's warm-up: each paper page's default figure computed once, in the background, at the lowest
priority, as a job of the shared registry (sharp.serve.jobs), so that a visitor finds it done or watches it.

Parent side (the server): `warm_up_once` starts a thread that submits each page's default sweep in turn
as a warm-up job whose runner is `subprocess_runner`: `python -m sharp.serve.warm PAGE --out FILE`, at nice 19
with one torch thread. A subprocess because niceness and torch's thread count are per process: a niced
thread in the server would leave its OpenMP workers at full priority, and set_num_threads would slow the
live runs too. The child also hands its memory back when it exits.

Child side (`main`): fills the disk cache run by run, prints one JSON progress object per line on stdout
({"done", "total", "message"}), writes the tidy frame to FILE (Parquet) and exits 0. It stops early if the
server that started it exits.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import sharp  # noqa: F401 - first: it tunes OpenMP before torch loads
from sharp.engine.sweep import Cancelled, TooBig
from sharp.engine.threads import env_int
from sharp.serve.jobs import Registry, Runner, shared

WARM_ENV = "SHARP_WARM"  # "0" turns the warm-up off (tests that must not compete for the cores)
NICE_ENV = "SHARP_WARM_NICE"  # the warm-up's niceness, 0 to 19 (default 19: only the cores nobody else wants)
PAGES_ENV = "SHARP_WARM_PAGES"  # which pages to warm, in order, comma-separated (default all of them)


def warm_enabled() -> bool:
    """False when $SHARP_WARM is 0, off, false or no."""
    return os.environ.get(WARM_ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def subprocess_runner(page: str, settings: dict[str, Any] | None = None, nice: int | None = None) -> Runner:
    """A Runner that computes a page's sweep in `python -m sharp.serve.warm page` (nice, one torch thread),
    relaying its progress lines, and returns the frame it writes.

    Args:
        page: an entry of sharp.experiments.EXPERIMENTS.
        settings: its settings (default: the page's defaults).
        nice: the child's niceness (default $SHARP_WARM_NICE or 19: it runs only when nothing else wants the
            cores).
    """
    if nice is None:
        nice = env_int(NICE_ENV, 19, 0, 19)
    def run(on_progress: Callable[[float, float, str], None], cancel: Callable[[], bool]) -> pd.DataFrame:
        from sharp.experiments import EXPERIMENTS

        exp = EXPERIMENTS[page]
        try:  # every run already in the disk cache (a restarted server): read it here, no subprocess
            return exp.run({**exp.defaults, **(settings or {})}, on_progress=on_progress, max_seconds=0)
        except TooBig:
            pass  # some work to do (the cap of 0 s refuses it before computing anything)
        with tempfile.TemporaryDirectory(prefix="sharp-warm-") as tmp:
            out = Path(tmp) / "frame.parquet"
            env = {**os.environ, "SHARP_THREADS": "1", "PYTHONUNBUFFERED": "1"}
            cmd = [sys.executable, "-m", "sharp.serve.warm", page, "--out", str(out), "--nice", str(nice)]
            if settings is not None:
                cmd += ["--settings", json.dumps(settings)]
            with open(Path(tmp) / "stderr.txt", "w+") as err_file:  # a file: a full pipe would block the child
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file, text=True, env=env,
                                        cwd=Path(__file__).resolve().parents[1])
                err = _relay(proc, on_progress, cancel, err_file)
            if proc.returncode != 0:
                raise RuntimeError(f"the warm-up of {page} failed ({proc.returncode}): {err.strip()[-500:]}")
            return pd.read_parquet(out)
    return run


def _relay(proc: subprocess.Popen, on_progress: Callable[[float, float, str], None], cancel: Callable[[], bool],
           err_file: Any) -> str:
    """Pass the child's progress lines on until it exits (killing it on cancel); returns its stderr."""
    try:
        for line in proc.stdout:  # one JSON object per progress update; ends when the child exits
            try:
                p = json.loads(line)
                on_progress(p["done"], p["total"], p["message"])
            except (ValueError, KeyError, TypeError):
                continue
            if cancel():
                raise Cancelled(pd.DataFrame())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
    err_file.seek(0)
    return err_file.read()


_warm_lock = threading.Lock()
_warm_thread: threading.Thread | None = None


def warm_up_once(experiments: Sequence[Any], also: Callable[[], Any] | None = None) -> bool:
    """Start `warm_up(experiments)` on the shared registry unless this process already has, or $SHARP_WARM is 0.

    The router calls it on every run; only the first call (the server's first session) starts anything.
    $SHARP_WARM_PAGES (comma-separated page names) picks and orders the pages; names not in the list
    given are skipped. `also`, if given, runs once in a thread of its own at the same time (the router
    warms Plotly with it). Returns whether a warm-up has been started in this process.
    """
    global _warm_thread
    if os.environ.get(PAGES_ENV, "").strip():
        by_page = {e.page: e for e in experiments}
        experiments = [by_page[p.strip()] for p in os.environ[PAGES_ENV].split(",") if p.strip() in by_page]
    with _warm_lock:
        if _warm_thread is None and warm_enabled():
            _warm_thread = warm_up(experiments)
            if also is not None:
                threading.Thread(target=also, daemon=True, name="sharp-warm-up-also").start()
        return _warm_thread is not None


def warm_up(experiments: Sequence[Any], registry: Registry | None = None,
            runner: Callable[[str, dict[str, Any]], Runner] = subprocess_runner) -> threading.Thread:
    """Start a thread that computes each experiment's default sweep in turn, as a warm-up job.

    A key another session has already started (or finished) is not started again: the thread waits for
    that job instead, and restarts it as a warm-up job if its visitor cancelled it.

    Args:
        experiments: sharp.experiments.Experiment objects (`WARM`), computed in this order.
        registry: default `shared()`.
        runner: (page, settings) -> Runner (default: the niced subprocess).
    Returns:
        The started daemon thread (join it to wait for the whole warm-up).
    """
    reg = registry or shared()

    def loop() -> None:
        for exp in experiments:
            for _ in range(3):  # a visitor's cancelled job is retried as a warm-up job, a few times at most
                job = reg.submit(exp.key(), runner(exp.page, exp.settings()), warm=True)
                job.wait()
                if job.state != "cancelled":
                    break

    t = threading.Thread(target=loop, daemon=True, name="sharp-warm-up")
    t.start()
    return t


# --- the child ---

def main(argv: list[str] | None = None) -> int:
    from sharp.engine.threads import engine_threads
    from sharp.experiments import EXPERIMENTS

    p = argparse.ArgumentParser(prog="python -m sharp.serve.warm", description=__doc__.splitlines()[0])
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
