"""The server's warm-up: each page's default figure computed at start-up, as background work of the one
pool (sharp.serve.pool), so that a visitor finds it done, or watches it finish.

`warm_up` submits every default at once as a background computation, keyed exactly as the page keys its
own (sharp.experiments.Experiment.key): background work runs a job per idle worker, in the order given, on the
slices nobody else wants, and pauses while a visitor is at a live run or a page is being opened
(sharp.serve.pool), so a visitor's live run or sweep always goes first and has the cores to itself. A visitor
who opens a page whose default is still being warmed waits for that same job, which is then promoted to a visitor's
priority at once (no second computation, and nobody waits behind background work). A default already in
the disk store (a restarted server) is read back in a moment.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sharp.serve.jobs import FunctionJob
from sharp.serve.pool import Entry, Pool, shared
from sharp.settings import env, var

WARM_ENV, PAGES_ENV = var("warm"), var("warm_pages")  # off; which pages, in order (sharp.settings)


def chosen(experiments: Sequence[Any]) -> list[Any]:
    """The experiments $SHARP_WARM_PAGES names, in its order (all of them when it is unset)."""
    names = env().warm_pages
    if not names:
        return list(experiments)
    by_page = {e.page: e for e in experiments}
    return [by_page[p] for p in names if p in by_page]


def warm_up(experiments: Sequence[Any], pool: Pool | None = None) -> list[Entry]:
    """Submit each experiment's default sweep as background work, in this order; returns their entries.

    Args:
        experiments: sharp.experiments.Experiment objects (`WARM`).
        pool: default `shared()`.
    Example:
        >>> [e.wait(600) for e in warm_up([FIG1])]
    """
    s = pool or shared()
    return [s.submit(exp.key(), lambda exp=exp: FunctionJob(functools.partial(exp.run, None, max_seconds=None)),
                     background=True) for exp in experiments]


_lock = threading.Lock()
_started: list[Entry] | None = None


def warm_up_once(experiments: Sequence[Any], also: Callable[[], Any] | None = None,
                 pool: Pool | None = None) -> bool:
    """`warm_up(chosen(experiments))` once per process, unless $SHARP_WARM is 0; returns whether it started.

    `also`, if given, runs once in a thread of its own at the same time (the server warms Plotly with it).
    """
    global _started
    with _lock:
        if _started is None and env().warm:
            _started = warm_up(chosen(experiments), pool)
            if also is not None:
                threading.Thread(target=also, daemon=True, name="sharp-warm-up-also").start()
        return _started is not None
