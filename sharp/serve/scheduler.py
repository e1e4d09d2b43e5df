"""Runs shared by every visitor of one server: each run is computed once, by a bounded pool of background
workers, in time slices; visitors only read what it has produced so far.

A job is anything with `advance(budget_s) -> int` (pull results for about budget_s seconds), a `done` flag,
and `nbytes() -> int` (the memory its results hold). The registry keys jobs by everything that determines
their numbers, so the second visitor with the same settings watches the first one's run from wherever it
is. Scheduling:

- A run is computed only while someone wants it: a playing visitor renews its demand at every look
  (`want`), a paused one does not, so a run nobody plays stops costing CPU within `DEMAND_S`.
- At most `max_active` runs are advanced at once, round robin, a slice of `slice_s` each; the others wait
  in arrival order and can tell how many runs are ahead of them (`ahead`).
- A new run's first slice jumps the queue, so every newcomer sees first points at once, whatever is running.
- Finished runs stay under a byte budget, the least recently seen evicted first; a run that someone looked
  at within `WATCHED_S` is never evicted, and an unfinished one nobody looked at for `ABANDONED_S` is dropped.

Nothing here imports Streamlit: the app holds one `Registry` per server process (st.cache_resource), and the
tests drive it directly. Worker threads never touch a session.

Example:
    >>> reg = Registry(workers=1)
    >>> entry = reg.get(("demo", 1), lambda: make_job())
    >>> reg.want(entry)          # a playing visitor, at each look
    >>> entry.job.done, reg.ahead(entry)
"""
from __future__ import annotations

import atexit
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sharp.engine.threads import env_int
from sharp.serve.runtime import lower_priority, release_memory

DEMAND_S = 4.0  # a run is computed for this long after a playing visitor last looked at it
WATCHED_S = 20.0  # a run looked at within this long counts as watched: never evicted
VIEWER_S = 3.0  # a visitor whose page ticked within this long counts as streaming (see heartbeat)
ABANDONED_S = 60.0  # an unfinished run nobody looked at for this long is dropped (its stream holds tensors)
WORKERS_ENV, ACTIVE_ENV, BUDGET_ENV = "SHARP_LIVE_WORKERS", "SHARP_LIVE_ACTIVE", "SHARP_LIVE_BUDGET_MB"
NICE_ENV = "SHARP_LIVE_NICE"  # how much lower the workers' CPU priority is than the server's threads (0 to 19)


class Job(Protocol):
    done: bool

    def advance(self, budget_s: float) -> int: ...

    def nbytes(self) -> int: ...


@dataclass(eq=False)
class Entry:
    """One shared run and its scheduling state (read by any thread; written under the registry's lock)."""

    key: Hashable
    job: Any  # a Job
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)  # last look by any visitor
    wanted_until: float = 0.0  # computed until then (a playing visitor renews it)
    state: str = "new"  # new -> queued -> active -> (parked | done | failed)
    error: str | None = None  # a failed run's message (the job raised)
    slices: int = 0  # time slices it has had
    busy: bool = field(default=False, repr=False)  # a worker is advancing it right now
    drawn: OrderedDict = field(default_factory=OrderedDict, repr=False)  # view key -> drawn chart, shared
    _draw_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def chart(self, view: Hashable, build: Callable[[], Any], keep: int = 8) -> Any:
        """A drawn chart of this run, built once per view for every visitor who shows the same view."""
        with self._draw_lock:  # visitors' script threads draw concurrently; the second one waits and shares
            hit = self.drawn.get(view)
            if hit is None:
                hit = build()
                self.drawn[view] = hit
                while len(self.drawn) > keep:
                    self.drawn.popitem(last=False)
            return hit


def default_workers(threads_per_run: int = 1) -> int:
    """Worker threads sized to the machine: $SHARP_LIVE_WORKERS, else cores / torch threads per run (>= 1)."""
    return env_int(WORKERS_ENV, max(1, (os.cpu_count() or 1) // max(1, threads_per_run)), 1)


class Registry:
    """The server's shared runs and the workers that advance them. Thread-safe."""

    def __init__(self, workers: int | None = None, max_active: int | None = None, budget_mb: float | None = None,
                 slice_s: float = 0.05, nice: int | None = None):
        self.workers = workers or default_workers()
        self.max_active = max_active or env_int(ACTIVE_ENV, 2 * self.workers, 1)
        self.budget = int((budget_mb or env_int(BUDGET_ENV, 64, 1)) * 2**20)
        self.slice_s = slice_s
        self.nice = env_int(NICE_ENV, 5, 0, 19) if nice is None else nice
        self._entries: dict[Hashable, Entry] = {}
        self._queue: deque[Entry] = deque()  # waiting for a place among the active runs, oldest first
        self._active: deque[Entry] = deque()  # advanced round robin
        self._fresh: deque[Entry] = deque()  # new runs owed their first slice
        self._cond = threading.Condition()
        self._closed = False
        self._last_evict, self._evict_every = time.monotonic(), 5.0  # abandoned runs are looked for this often
        self._viewers: dict[str, float] = {}  # streaming visitor -> last tick
        self.started = 0  # runs ever started (tests and the load test read it)
        self.evicted = 0
        self._threads = [threading.Thread(target=self._work, name=f"sharp-run-{i}", daemon=True)
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()
        atexit.register(self.close)  # stop the workers between two slices, not inside torch at interpreter exit

    # --- what visitors call -----------------------------------------------------------------------------------

    def get(self, key: Hashable, make: Callable[[], Any], want: bool = True) -> Entry:
        """The shared run for key, started from make() if nobody has it. make() should be cheap (no training)."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is None:
                entry = Entry(key, make())
                self._entries[key] = entry
                self.started += 1
                entry.state = "queued"
                self._fresh.append(entry)
                self._queue.append(entry)
            entry.seen = time.monotonic()
            if want:
                self._want(entry, entry.seen)
            self._cond.notify_all()
            return entry

    def peek(self, key: Hashable) -> Entry | None:
        """The run for key if the server has it (no start, no demand)."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is not None:
                entry.seen = time.monotonic()
            return entry

    def want(self, entry: Entry, seconds: float = DEMAND_S) -> None:
        """A playing visitor looked at the run: keep computing it for `seconds` more."""
        with self._cond:
            now = time.monotonic()
            entry.seen = now
            self._want(entry, now, seconds)
            self._cond.notify_all()

    def ahead(self, entry: Entry) -> int:
        """How many runs wait before this one gets its turn (0: it is being computed, or finished)."""
        with self._cond:
            if entry.state != "queued":
                return 0
            try:
                return self._queue.index(entry) + max(0, len(self._active) + 1 - self.max_active)
            except ValueError:
                return 0

    def heartbeat(self, viewer: str) -> int:
        """A visitor's page redrew while streaming; returns how many visitors streamed within VIEWER_S.

        The pages slow their redraws when many stream at once, so the server's threads keep up (and answer).
        """
        with self._cond:
            now = time.monotonic()
            self._viewers[viewer] = now
            for v, t in list(self._viewers.items()):
                if now - t > VIEWER_S:
                    del self._viewers[v]
            return len(self._viewers)

    def stats(self) -> dict[str, int]:
        """Counts for the load test and the server's log: runs held, active, queued, bytes, started, evicted."""
        with self._cond:
            return dict(runs=len(self._entries), active=len(self._active), queued=len(self._queue),
                        bytes=sum(e.job.nbytes() for e in self._entries.values()), started=self.started,
                        evicted=self.evicted, workers=self.workers, max_active=self.max_active)

    def close(self) -> None:
        """Stop the workers (each finishes its current slice first)."""
        atexit.unregister(self.close)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    # --- scheduling (caller holds the lock) --------------------------------------------------------------------

    def _want(self, entry: Entry, now: float, seconds: float = DEMAND_S) -> None:
        entry.wanted_until = max(entry.wanted_until, now + seconds)
        if entry.state == "parked":  # wanted again: back in line
            entry.state = "queued"
            self._queue.append(entry)

    def _promote(self, now: float) -> None:
        """Park active runs nobody wants any more; fill the free places from the queue, oldest first."""
        for entry in list(self._active):
            if not entry.busy and now > entry.wanted_until:
                self._active.remove(entry)
                entry.state = "parked"
        for entry in list(self._queue):
            if now > entry.wanted_until:  # abandoned while waiting
                self._queue.remove(entry)
                entry.state = "parked"
        while self._queue and len(self._active) < self.max_active:
            entry = self._queue.popleft()
            entry.state = "active"
            self._active.append(entry)

    def _next(self) -> Entry | None:
        """The run a free worker should advance now: a newcomer's first slice, else the next active run."""
        while self._fresh:
            entry = self._fresh.popleft()
            if not entry.busy and not entry.finished:
                return entry
        self._promote(time.monotonic())
        for _ in range(len(self._active)):
            entry = self._active[0]
            self._active.rotate(-1)  # round robin: whoever had a slice goes to the back
            if not entry.busy:
                return entry
        return None

    def _finish(self, entry: Entry) -> None:
        for line in (self._active, self._queue):
            if entry in line:
                line.remove(entry)
        self._evict()

    def _evict(self) -> None:
        """Drop runs nobody watches, least recently seen first, until the rest fit in the byte budget."""
        now, freed = time.monotonic(), False
        sizes = {e.key: e.job.nbytes() for e in self._entries.values()}
        total = sum(sizes.values())
        for entry in sorted(self._entries.values(), key=lambda e: e.seen):
            if entry.busy or now - entry.seen < WATCHED_S:
                continue
            if total <= self.budget and (entry.finished or now - entry.seen < ABANDONED_S):
                continue
            del self._entries[entry.key]
            for line in (self._active, self._queue, self._fresh):
                if entry in line:
                    line.remove(entry)
            close = getattr(entry.job, "close", None)
            if close is not None:
                close()
            total -= sizes[entry.key]
            self.evicted += 1
            freed = True
        if freed:
            release_memory()

    # --- the workers ----------------------------------------------------------------------------------------------

    def _work(self) -> None:
        lower_priority(self.nice)
        while True:
            with self._cond:
                entry = None
                while not self._closed and (entry := self._next()) is None:
                    self._cond.wait(timeout=1.0)
                    self._maybe_evict()
                if self._closed:
                    return
                entry.busy = True
            try:
                entry.job.advance(self.slice_s)
                error = None
            except Exception as e:  # a job's bug must not take the worker, or the other runs, with it
                error = f"{type(e).__name__}: {e}"
            with self._cond:
                entry.busy = False
                entry.slices += 1
                if error is not None or entry.job.done:
                    entry.state, entry.error = ("failed", error) if error else ("done", None)
                    self._finish(entry)
                self._maybe_evict()
                self._cond.notify_all()

    def _maybe_evict(self) -> None:
        if time.monotonic() - self._last_evict > self._evict_every:
            self._last_evict = time.monotonic()
            self._evict()
