"""What the pool holds per job: its priority, its state, who waits for it, and the charts drawn of it.

A job is anything with `advance(budget_s) -> int` (compute for about budget_s seconds), a `done` flag and
`nbytes() -> int` (the memory its results hold): a live run (sharp.serve.live_run.LiveRun), or a blocking
computation wrapped in sharp.serve.jobs.FunctionJob. An `Entry` is read by any thread and written under the
pool's lock.

Waiting on a job has one way: `Entry.wait` (a thread) or `Entry.wait_async` (the event loop, holding no thread),
until the job has finished or a condition on it holds (a live run's next row). The pool wakes the waiters after
every slice it gives the job and when the job's state changes (`Entry.changed`), so nobody polls. A visitor's
page waiting for a computation goes through `sharp.serve.pool.Pool.attend`, which waits so and keeps the
visitor counted as waiting.
"""
from __future__ import annotations

import asyncio
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
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _version: int = field(default=0, repr=False)  # how many times the pool said something about this job
    _loops: list = field(default_factory=list, repr=False)  # (event loop, future) of each `wait_async`

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def live(self) -> bool:
        return self.priority == Priority.WATCHED

    def _over(self, until: Callable[[], bool] | None) -> bool:
        return self.finished or (until is not None and bool(until()))

    def wait(self, timeout: float | None = None, until: Callable[[], bool] | None = None) -> bool:
        """Block up to timeout seconds until the job has finished (done, failed or cancelled) or `until()` holds;
        returns whether it did. `until` is read without any lock held (it may ask the pool).

        Example: entry.wait(30, until=lambda: entry.job.count > 0)
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = self._version
            if self._over(until):
                return True
            with self._changed:
                if self._version == seen:  # nothing new since the look above: sleep until the pool's next word
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._changed.wait(left)

    async def wait_async(self, timeout: float, until: Callable[[], bool] | None = None) -> bool:
        """`wait` for the event loop: the coroutine sleeps until the pool's next word about this job, holding no
        thread. Example: await entry.wait_async(0.6, until=lambda: entry.job.count > have)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self._version
            if self._over(until):
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            woken = loop.create_future()
            with self._changed:
                if self._version != seen:  # something happened since the look above: look again
                    continue
                self._loops.append((loop, woken))
            try:
                await asyncio.wait_for(woken, left)
            except TimeoutError:
                pass
            finally:
                with self._changed:
                    if (loop, woken) in self._loops:
                        self._loops.remove((loop, woken))

    def changed(self) -> None:
        """Wake everyone waiting on this job (the pool calls it after each slice and each change of state)."""
        with self._changed:
            self._version += 1
            self._changed.notify_all()
            loops, self._loops = self._loops, []
        for loop, woken in loops:
            try:
                loop.call_soon_threadsafe(_wake, woken)
            except RuntimeError:  # that event loop has closed: nobody is waiting there any more
                pass

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


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
