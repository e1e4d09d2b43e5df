"""The server's pool: every training job of a server process (live runs, page sweeps, the warm-up, the kiosk's
scenes, the tour's runs) goes through one pool of worker threads sized to the machine, which decides which job
each worker advances next.

"Pool" names this in-process pool of threads; "scheduler" in this project is only ever the Dask cluster's
(sharp.distributed, `--scheduler`, $SHARP_SCHEDULER).

A job (sharp.serve.entry.Job) is a live run (sharp.serve.live_run.LiveRun) or a blocking computation wrapped in
sharp.serve.jobs.FunctionJob; the pool holds each in an `Entry`. Jobs are keyed by everything that decides
their numbers, so the second visitor with the same settings shares the first one's job.

Rules:
- **One set of workers.** `workers` threads (default: cores / torch threads per job, one thread per job by
  default, so a worker per core), each advancing one job for a slice of `slice_s` at a time, at a CPU
  priority `nice` below the server's own threads (the pages and the health endpoint are answered first). No
  other thread trains.
- **One priority order.** A live run a visitor watches (WATCHED), then a computation a visitor waits for
  (WAITED), then background work (BACKGROUND: the warm-up, the kiosk's scenes), which only gets the slices
  nobody else wants, and none at all while a visitor is at a live run: background work pauses, even on an
  idle worker, while a live run is wanted or was looked at within `demand_s`, and for a few seconds after a
  page is opened (`hold_background`, called by the server's page route), so that a visitor's page loads and
  their run computes with the machine's cores to themselves. A background job a visitor starts waiting for
  is promoted at once. A waited
  computation that had no slice for `starve_s` gets the next one, so a classroom of live runs cannot
  starve a visitor's sweep.
- **Bounded.** At most `max_active` live runs (and `slots` waited computations, a background job per worker)
  are advanced at once, in arrival order; the others wait and can tell how many are ahead (`ahead`). A new live
  run's first slice jumps the queue, so every newcomer sees first points at once.
- **Only while wanted.** A live run is computed while a playing visitor renews its demand (`want`, for
  `demand_s`); a computation while a visitor looked at it within `abandon_s` (`watch`), or while it is
  background work. A computation nobody waits for any more is cancelled; a live run nobody wants is parked.
- **Memory.** Finished jobs stay within a byte budget, least recently seen out first; a job looked at within
  `watched_s` is never evicted, and an unfinished live run nobody looked at for `abandoned_s` is dropped.

Time is the pool's `clock` (default time.monotonic): the tests give it one they move by hand and call `wake`,
so they assert what the pool decides, not how long it takes. A job's waiters are woken after each of its
slices (sharp.serve.entry.Entry.wait).

Nothing here imports Streamlit. A server process has one Pool, `shared()`, which every page, route and
background task uses; the tests drive their own.

Example:
    >>> s = Pool(workers=1)
    >>> entry = s.submit("demo", lambda: FunctionJob(lambda on_progress, cancel: 42), who="alice")
    >>> entry.wait(10) and entry.job.result
    42
"""
from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from sharp.serve.entry import Entry, Priority
from sharp.serve.jobs import Status
from sharp.serve.runtime import lower_priority, release_memory
from sharp.settings import env


class Pool:
    """The server's training jobs and the workers that advance them. Thread-safe; see the module docstring."""

    def __init__(self, workers: int | None = None, max_active: int | None = None, budget_mb: float | None = None,
                 slice_s: float = 0.05, nice: int | None = None, slots: int | None = None, demand_s: float = 4.0,
                 watched_s: float = 20.0, abandoned_s: float = 60.0, abandon_s: float = 15.0,
                 starve_s: float = 1.0, evict_every_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.clock = clock  # every time the pool reads: a test's hand-moved one, or the monotonic clock
        settings = env()  # $SHARP_WORKERS, $SHARP_ACTIVE, $SHARP_MEMORY_MB, $SHARP_NICE for what is not given
        self.workers = workers or settings.workers
        self.max_active = max_active or settings.active or 2 * self.workers
        self.slots = slots or self.workers
        self.budget = int((budget_mb or settings.memory_mb) * 2**20)
        self.slice_s, self.nice = slice_s, settings.nice if nice is None else nice
        self.demand_s, self.watched_s = demand_s, watched_s
        self.abandoned_s, self.abandon_s, self.starve_s = abandoned_s, abandon_s, starve_s
        self._entries: dict[Hashable, Entry] = {}
        self._queues = {p: deque() for p in Priority}  # waiting for a place, oldest first
        self._active = {p: deque() for p in Priority}  # advanced round robin
        self._caps = {Priority.WATCHED: self.max_active, Priority.WAITED: self.slots,
                      Priority.BACKGROUND: self.workers}
        self._quiet_until = 0.0  # background work pauses until then (`hold_background`)
        self._fresh: deque[Entry] = deque()  # new live runs owed their first slice
        self._cond = threading.Condition()
        self._closed = False
        self._last_evict, self._evict_every = self.clock(), evict_every_s
        self.started = 0  # jobs ever started (tests and the load test read it)
        self.evicted = 0
        self._threads = [threading.Thread(target=self._work, name=f"sharp-worker-{i}", daemon=True)
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()
        atexit.register(self.close)  # stop the workers between two slices, not inside torch at interpreter exit

    # --- live runs ---------------------------------------------------------------------------------------------

    def get(self, key: Hashable, make: Callable[[], Any], want: bool = True) -> Entry:
        """The shared live run for key, started from make() if nobody has it. make() must be cheap (no training)."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._add(key, make(), Priority.WATCHED)
                self._fresh.append(entry)
            entry.seen = self.clock()
            if want:
                self._want(entry, entry.seen, self.demand_s)
            self._cond.notify_all()
            return entry

    def want(self, entry: Entry, seconds: float | None = None) -> None:
        """A playing visitor looked at the run: keep computing it for `seconds` (default demand_s) more."""
        with self._cond:
            entry.seen = self.clock()
            self._want(entry, entry.seen, self.demand_s if seconds is None else seconds)
            self._cond.notify_all()

    # --- computations ------------------------------------------------------------------------------------------

    def submit(self, key: Hashable, make: Callable[[], Any], who: str | None = None,
               background: bool = False, local: bool = True) -> Entry:
        """The computation for key: the existing one (running or finished), else a new one from make().

        Args:
            key: what decides its numbers (a page and its settings: sharp.experiments.job_key).
            make: builds the job (a FunctionJob), called only when a new one starts.
            who: the asking session, recorded as waiting for it (promotes background work to WAITED).
            background: work for everyone (warm-up, kiosk): never cancelled for want of watchers.
            local: False for a job whose work is done elsewhere (a Dask cluster): it gets a thread of its own
                at once instead of the workers' turns, since it only waits.
        """
        with self._cond:
            entry = self._entries.get(key)
            if entry is not None and (entry.state in ("failed", "cancelled") or getattr(entry.job, "stopping", False)):
                self._drop(entry)  # failed, cancelled or being cancelled: a fresh job takes the key over
                entry = None
            if entry is None:
                entry = self._add(key, make(), Priority.WAITED if who else Priority.BACKGROUND)
                if not local:
                    self._queues[entry.priority].remove(entry)
                    entry.state, entry.busy = "active", True
                    threading.Thread(target=self._elsewhere, args=(entry,), daemon=True, name="sharp-remote").start()
            entry.background |= background
            if who is not None:
                self._watch(entry, who)
            self._cond.notify_all()
            return entry

    def peek(self, key: Hashable) -> Entry | None:
        """The job for key if the server has it (no start, no demand)."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is not None:
                entry.seen = self.clock()
            return entry

    def watch(self, entry: Entry, who: str) -> None:
        """Session `who` is waiting for this computation now (keeps it going for abandon_s)."""
        with self._cond:
            self._watch(entry, who)
            self._cond.notify_all()

    def leave(self, entry: Entry, who: str) -> None:
        """Session `who` no longer waits; with nobody left (and no background need) the computation stops."""
        with self._cond:
            entry.watchers.pop(who, None)
            if not entry.watchers and not entry.background and not entry.finished:
                self._cancel(entry)
            self._cond.notify_all()

    def attend(self, entry: Entry, who: str, timeout: float, every: float = 0.25,
               tick: Callable[[Status], Any] | None = None) -> bool:
        """Session `who` waits (at most timeout seconds) for a computation to finish: renewing its place among
        the waiters every `every` seconds and calling tick(status) then (a page's progress bar; it may raise to
        stop waiting). Returns whether it finished. Example: pool.attend(entry, "alice", 120)"""
        deadline = time.monotonic() + timeout  # the visitor's patience is real time, whatever the pool's clock
        while not entry.wait(every):
            if time.monotonic() >= deadline:
                return False
            self.watch(entry, who)
            if tick is not None:
                tick(self.status(entry))
        return True

    def hold_background(self, seconds: float) -> None:
        """A visitor is arriving (a page is being opened): pause background work for `seconds` from now."""
        with self._cond:
            self._quiet_until = max(self._quiet_until, self.clock() + seconds)

    def wake(self) -> None:
        """Have the workers look at the queues again now (a test that moved its clock calls this)."""
        with self._cond:
            self._cond.notify_all()

    def cancel(self, entry: Entry) -> None:
        """Stop the job at its next step, whoever waits for it."""
        with self._cond:
            self._cancel(entry)
            self._cond.notify_all()

    def status(self, entry: Entry) -> Status:
        """Where a computation is, for its page's progress bar."""
        fraction, done, total, message = entry.job.progress()
        with self._cond:
            now = self.clock()
            watchers = sum(now - t <= self.abandon_s for t in entry.watchers.values())
            state = {"new": "queued", "parked": "queued", "active": "running"}.get(entry.state, entry.state)
            return Status(state, fraction, message, done, total, self._ahead(entry), entry.background, watchers)

    # --- both -----------------------------------------------------------------------------------------------------

    def ahead(self, entry: Entry) -> int:
        """How many jobs of its kind run or wait before this one gets its turn (0: it has it, or has finished)."""
        with self._cond:
            return self._ahead(entry)

    def stats(self) -> dict[str, int]:
        """Counts for the tests, the load test and /api/status."""
        with self._cond:
            return dict(jobs=len(self._entries), active=sum(map(len, self._active.values())),
                        queued=sum(map(len, self._queues.values())),
                        bytes=sum(e.job.nbytes() for e in self._entries.values()), started=self.started,
                        evicted=self.evicted, workers=self.workers, max_active=self.max_active)

    def background(self) -> dict[str, str]:
        """Each background job's key and state (what the warm-up and the kiosk have done so far)."""
        with self._cond:
            return {str(e.key): e.state for e in self._entries.values() if e.background}

    def close(self) -> None:
        """Stop the workers (each finishes its current slice) and every unfinished computation, and wait for them
        (a few seconds at most), so that no thread is inside torch when the interpreter exits."""
        atexit.unregister(self.close)
        with self._cond:
            self._closed = True
            stopping = [e.job for e in self._entries.values() if not e.finished and hasattr(e.job, "close")]
            for job in stopping:
                if hasattr(job, "wait"):  # a computation: its close is thread-safe, it stops at its next step
                    job.close()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)
        for job in stopping:  # the live runs, once no worker is inside one (a generator cannot close while it runs)
            if hasattr(job, "wait"):
                job.wait(5)
            else:
                try:
                    job.close()
                except ValueError:  # a worker that outlived its join is still inside it: the process is ending
                    pass

    # --- bookkeeping (caller holds the lock) ------------------------------------------------------------------

    def _add(self, key: Hashable, job: Any, priority: Priority) -> Entry:
        now = self.clock()
        entry = Entry(key, job, priority, created=now, seen=now, last_slice=now, state="queued")
        self._entries[key] = entry
        self._queues[priority].append(entry)
        self.started += 1
        return entry

    def _ahead(self, entry: Entry) -> int:
        if entry.state != "queued":
            return 0
        queue = self._queues[entry.priority]
        try:
            return queue.index(entry) + max(0, len(self._active[entry.priority]) + 1 - self._caps[entry.priority])
        except ValueError:
            return 0

    def _want(self, entry: Entry, now: float, seconds: float) -> None:
        entry.wanted_until = max(entry.wanted_until, now + seconds)
        if entry.state == "parked":  # wanted again: back in line
            entry.state = "queued"
            self._queues[entry.priority].append(entry)

    def _watch(self, entry: Entry, who: str) -> None:
        now = self.clock()
        entry.watchers[who] = entry.seen = now
        if entry.priority == Priority.BACKGROUND and not entry.finished:  # promoted at once, place kept
            for line in (self._queues, self._active):
                if entry in line[Priority.BACKGROUND]:
                    line[Priority.BACKGROUND].remove(entry)
                    line[Priority.WAITED].appendleft(entry)
            entry.priority = Priority.WAITED
            entry.changed()

    def _wanted(self, entry: Entry, now: float) -> bool:
        if entry.live:
            return now <= entry.wanted_until
        return entry.background or any(now - t <= self.abandon_s for t in entry.watchers.values())

    def _cancel(self, entry: Entry) -> None:
        if hasattr(entry.job, "close"):
            entry.job.close()
        if not entry.busy and entry.job.done:
            self._finish(entry)

    def _drop(self, entry: Entry) -> None:
        self._entries.pop(entry.key, None)
        for lines in (self._queues, self._active):
            for line in lines.values():
                if entry in line:
                    line.remove(entry)
        if entry in self._fresh:
            self._fresh.remove(entry)

    def _promote(self, now: float) -> None:
        """Park live runs nobody wants, cancel computations nobody waits for; fill free places from the queues."""
        for p in Priority:
            for entry in list(self._active[p]) + list(self._queues[p]):
                if entry.busy or self._wanted(entry, now):
                    continue
                if entry.live:
                    for line in (self._active[p], self._queues[p]):
                        if entry in line:
                            line.remove(entry)
                    entry.state = "parked"
                    entry.changed()
                else:  # abandoned: every visitor left
                    self._cancel(entry)
            while self._queues[p] and len(self._active[p]) < self._caps[p]:
                entry = self._queues[p].popleft()
                entry.state = "active"
                self._active[p].append(entry)
                entry.changed()

    def _next(self) -> Entry | None:
        """The job a free worker advances now: a newcomer's first slice, a starved waited computation, else the
        first free active job in priority order, round robin within a priority."""
        while self._fresh:
            entry = self._fresh.popleft()
            if not entry.busy and not entry.finished:
                return entry
        now = self.clock()
        self._promote(now)
        for entry in self._active[Priority.WAITED]:
            if not entry.busy and now - entry.last_slice > self.starve_s:
                return entry
        for p in Priority:
            if p == Priority.BACKGROUND and self._visitor_here(now):
                break  # paused, not only behind: a visitor's live run has the cores to itself
            line = self._active[p]
            for _ in range(len(line)):
                entry = line[0]
                line.rotate(-1)  # whoever had a slice goes to the back
                if not entry.busy:
                    return entry
        return None

    def _visitor_here(self, now: float) -> bool:
        """Whether a visitor is at a live run (one unfinished is wanted, or was looked at within demand_s), or a
        page is being opened (`hold_background`): background work waits meanwhile."""
        if now < self._quiet_until:
            return True
        return any(not e.finished and (self._wanted(e, now) or now - e.seen <= self.demand_s)
                   for e in self._entries.values() if e.live)

    def _finish(self, entry: Entry) -> None:
        job = entry.job
        if entry.error is None and getattr(job, "error", None) is not None:
            entry.error = f"{type(job.error).__name__}: {job.error}"
        entry.state = entry.state if entry.state == "failed" else getattr(job, "state", "done")
        if entry.state not in ("done", "failed", "cancelled"):
            entry.state = "done"
        for lines in (self._queues, self._active):
            for line in lines.values():
                if entry in line:
                    line.remove(entry)
        if entry.state != "done" and not entry.live:
            self._entries.pop(entry.key, None)  # failed or cancelled: forgotten, so asking again restarts it
        entry.changed()
        self._evict()

    def _evict(self) -> None:
        """Drop jobs nobody watches, least recently seen first, until the rest fit in the byte budget."""
        now, freed = self.clock(), False
        sizes = {e.key: e.job.nbytes() for e in self._entries.values()}
        total = sum(sizes.values())
        for entry in sorted(self._entries.values(), key=lambda e: e.seen):
            if entry.busy or now - entry.seen < self.watched_s:
                continue
            if total <= self.budget and (entry.finished or not entry.live or now - entry.seen < self.abandoned_s):
                continue
            if not entry.finished and not entry.live:
                continue  # an unfinished computation ends by itself (done, or cancelled when abandoned)
            self._drop(entry)
            if hasattr(entry.job, "close"):
                entry.job.close()
            total -= sizes[entry.key]
            self.evicted += 1
            freed = True
            entry.changed()
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
            except Exception as e:  # a job's bug must not take the worker, or the other jobs, with it
                error = f"{type(e).__name__}: {e}"
            with self._cond:
                entry.busy = False
                entry.slices += 1
                entry.last_slice = self.clock()
                if error is not None:
                    entry.state, entry.error = "failed", error
                if error is not None or entry.job.done:
                    self._finish(entry)
                self._maybe_evict()
                self._cond.notify_all()
            entry.changed()  # its new rows or progress, for whoever waits on it

    def _elsewhere(self, entry: Entry) -> None:
        """A job computed elsewhere: one unbounded turn on a thread of its own, then finished as usual."""
        try:
            entry.job.advance(float("inf"))
        except Exception as e:  # noqa: BLE001 - reported on the entry like a worker's job
            entry.error = f"{type(e).__name__}: {e}"
        with self._cond:
            entry.busy = False
            if entry.error is not None:
                entry.state = "failed"
            self._finish(entry)
            self._cond.notify_all()

    def _maybe_evict(self) -> None:
        if self.clock() - self._last_evict > self._evict_every:
            self._last_evict = self.clock()
            self._evict()


_shared: Pool | None = None
_shared_lock = threading.Lock()


def shared() -> Pool:
    """The pool of this process: every page, route and background task of a server uses this one.

    Created on first use (the server's start-up, web.server.start, makes it before any visitor), with one worker
    per $SHARP_WORKERS (default: cores / torch threads per job, sharp.settings).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Pool()
        return _shared


def close_shared() -> None:
    """Close this process's pool (its workers and computations stop); the next `shared()` makes a new one."""
    global _shared
    with _shared_lock:
        s, _shared = _shared, None
    if s is not None:
        s.close()
