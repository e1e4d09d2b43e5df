"""What the pool holds per job: its priority, its state, who waits for it, and the charts drawn of it.

A job is anything with `advance(budget_s) -> int` (compute for about budget_s seconds), a `done` flag and
`nbytes() -> int` (the memory its results hold): a live run (sharp.serve.live_run.LiveRun), or a blocking
computation wrapped in sharp.serve.jobs.FunctionJob. An `Entry` is read by any thread and written under the
pool's lock.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol


class Priority(IntEnum):
    WATCHED = 0  # a live run a visitor is watching
    WAITED = 1  # a computation a visitor is waiting for
    BACKGROUND = 2  # work for everyone that nobody waits for yet


class Job(Protocol):
    done: bool

    def advance(self, budget_s: float) -> int: ...

    def nbytes(self) -> int: ...


@dataclass(eq=False)
class Entry:
    """One job of the pool and its state (read by any thread; written under the pool's lock)."""

    key: Hashable
    job: Any  # a Job
    priority: Priority
    background: bool = False  # kept going by the server itself (warm-up, kiosk), whoever watches
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)  # last look by any visitor
    wanted_until: float = 0.0  # a live run is computed until then (a playing visitor renews it)
    state: str = "new"  # new -> queued -> active -> (parked | done | failed | cancelled)
    error: str | None = None  # a failed job's message
    slices: int = 0
    last_slice: float = field(default_factory=time.monotonic)
    busy: bool = field(default=False, repr=False)  # a worker is advancing it right now
    watchers: dict = field(default_factory=dict, repr=False)  # session -> last look (computations)
    drawn: OrderedDict = field(default_factory=OrderedDict, repr=False)  # view key -> drawn chart, shared
    _draw_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def live(self) -> bool:
        return self.priority == Priority.WATCHED

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to timeout seconds; True once the job has finished (done, failed or cancelled)."""
        return self._finished.wait(timeout)

    def chart(self, view: Hashable, build: Callable[[], Any], keep: int = 8) -> Any:
        """A drawn chart of this job, built once per view for every visitor who shows the same view."""
        with self._draw_lock:  # visitors' script threads draw concurrently; the second one waits and shares
            hit = self.drawn.get(view)
            if hit is None:
                hit = build()
                self.drawn[view] = hit
                while len(self.drawn) > keep:
                    self.drawn.popitem(last=False)
            return hit
