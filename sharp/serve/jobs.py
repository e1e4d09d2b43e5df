"""A server-wide registry of sweep jobs: each sweep is computed once per server and shared by every session.

A job is named by its key (the page and its settings, `sharp.experiments.job_key`). The first session that
asks for a key starts the job in a background thread; a later session with the same key gets the same
`Job` and reads its progress and, when done, its frame. Finished frames stay in memory, least recently used
out first, within a count and a byte budget (the disk cache, sharp.engine.store, holds every run anyway).

Sessions never wait on each other: a job's thread only updates plain fields under a lock; a session reads
them (`Job.status`) and draws. Nothing here knows about Streamlit.

Visitors' jobs run in this process, at most `workers` at a time (the rest queue and say how many are ahead).
Warm-up jobs (sharp.serve.warm) run each page's default figure in a niced subprocess. A job nobody has looked at
for `abandon_s` stops at its next step, unless it is a warm-up job.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sharp.engine.sweep import Cancelled
from sharp.engine.threads import env_int
from sharp.serve.runtime import lower_priority

# fn(on_progress=..., cancel=...) -> the tidy frame; raises sharp.engine.sweep.Cancelled when cancel() turns True.
Runner = Callable[..., pd.DataFrame]
WORKERS_ENV = "SHARP_SWEEP_WORKERS"  # visitors' sweeps computed at once (default: half the cores, at least 1)
MEMORY_ENV = "SHARP_SWEEP_MEMORY_MB"  # memory for finished frames (default 64 MB)
NICE_ENV = "SHARP_SWEEP_NICE"  # how much lower the job threads' CPU priority is than the server's (default 5)
_RUN = re.compile(r"^\[(\d+)/(\d+)\].* (done|cached)$")


@dataclass(frozen=True)
class Status:
    """What a page shows about a job at one moment."""

    state: str  # "queued", "running", "done", "failed" or "cancelled"
    fraction: float  # 0..1, estimated work done
    message: str  # the sweep's last progress line, e.g. "[3/42] d=8 n=64 m=20 depth=1 step 120"
    runs_done: int  # finished runs (cached ones included)
    runs_total: int  # runs in the sweep (0 until the first progress line)
    ahead: int  # visitors' jobs running or queued before this one (0 unless queued)
    warm: bool  # a warm-up job (computed for everyone)
    watchers: int  # sessions that looked at it in the last abandon_s


class Job:
    """One sweep: its state, progress and result. Thread-safe; created by `Registry.submit`."""

    def __init__(self, key: str, warm: bool, abandon_s: float):
        self.key, self.warm, self._abandon_s = key, warm, abandon_s
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._stop = threading.Event()
        self.state = "queued"
        self.result: pd.DataFrame | None = None
        self.error: BaseException | None = None
        self.ahead = 0
        self._progress = (0.0, 1.0, "")
        self._runs = (0, 0)
        self._seen: dict[str, float] = {}  # session id -> last look (monotonic seconds)
        self.created = time.monotonic()

    # --- the job's thread ---

    def on_progress(self, done: float, total: float, message: str) -> None:
        """The sweep's progress callback: (done, total) in estimated seconds of work, and a line."""
        m = _RUN.match(message)
        with self._lock:
            self._progress = (done, total, message)
            if m:
                self._runs = (int(m[1]), int(m[2]))
            elif message.startswith("[") and "/" in message:
                i, n = message[1:].split("]")[0].split("/")
                if i.isdigit() and n.isdigit():
                    self._runs = (int(i) - 1, int(n))

    def should_stop(self) -> bool:
        """Polled by the sweep after every logged step: cancelled, or abandoned by every visitor."""
        if self._stop.is_set():
            return True
        if not self.warm and self.idle() > self._abandon_s:
            self._stop.set()
            return True
        return False

    def idle(self) -> float:
        """Seconds since a session last looked at the job (or since it was created, if none has)."""
        with self._lock:
            return time.monotonic() - max([self.created, *self._seen.values()])

    def _end(self, state: str, result: pd.DataFrame | None = None, error: BaseException | None = None) -> None:
        with self._lock:
            self.state, self.result, self.error = state, result, error
        self._finished.set()

    # --- the sessions ---

    def watch(self, who: str) -> None:
        """Record that session `who` is looking at this job now (keeps a visitor's job alive)."""
        with self._lock:
            self._seen[who] = time.monotonic()

    def leave(self, who: str) -> None:
        """Session `who` no longer waits for it; with nobody left (and not a warm-up job) it stops."""
        with self._lock:
            had = self._seen.pop(who, None) is not None
        if had and not self.warm and self.watchers() == 0 and not self.finished:
            self._stop.set()

    def cancel(self) -> None:
        """Stop at the next logged step, whoever watches."""
        self._stop.set()

    def watchers(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(now - t <= self._abandon_s for t in self._seen.values())

    @property
    def stopping(self) -> bool:
        """Asked to stop (cancelled or abandoned) and not finished yet, or stopped."""
        return self._stop.is_set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to timeout seconds; True once the job has finished (done, failed or cancelled)."""
        return self._finished.wait(timeout)

    def status(self) -> Status:
        watchers = self.watchers()
        with self._lock:
            done, total, message = self._progress
            fraction = 1.0 if self.state == "done" else min(done / total, 1.0) if total > 0 else 0.0
            return Status(self.state, fraction, message, self._runs[0], self._runs[1], self.ahead, self.warm,
                          watchers)


class Registry:
    """The jobs of one server process, keyed by page and settings; see the module docstring.

    Args:
        workers: visitors' jobs computed at once (default $SHARP_SWEEP_WORKERS or half the cores, at least 1).
        max_bytes: memory for finished frames (default $SHARP_SWEEP_MEMORY_MB MB, 64).
        max_results: finished frames kept at most.
        abandon_s: a visitor's job that no session has looked at for this long stops.
    Example:
        >>> job = Registry().submit("demo:{}", lambda on_progress, cancel: pd.DataFrame({"x": [1]}), "s1")
        >>> job.wait(10) and job.result.x.tolist()
        [1]
    """

    def __init__(self, workers: int | None = None, max_bytes: int | None = None, max_results: int = 64,
                 abandon_s: float = 15.0, nice: int | None = None):
        self.workers = workers or env_int(WORKERS_ENV, max(1, (os.cpu_count() or 1) // 2), 1)
        # Sweeps train below the server's own threads, like the live runs' workers (sharp.serve.scheduler), so that
        # a visitor's sweep never delays the pages' redraws or the health endpoint.
        self.nice = env_int(NICE_ENV, 5, 0, 19) if nice is None else nice
        self.max_bytes = max_bytes if max_bytes is not None else env_int(MEMORY_ENV, 64, 1) * 2 ** 20
        self.max_results, self.abandon_s = max_results, abandon_s
        self._lock = threading.Condition()
        self._live: dict[str, Job] = {}  # queued or running
        self._done: OrderedDict[str, tuple[Job, int]] = OrderedDict()  # finished frames, oldest first, with bytes
        self._queue: list[Job] = []  # visitors' jobs waiting for a worker, in order
        self._running = 0
        self.started: Counter[str] = Counter()  # jobs started per key (a test reads it: one per key)

    def get(self, key: str) -> Job | None:
        """The live or finished job for key, or None."""
        with self._lock:
            if key in self._live:
                return self._live[key]
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key][0]
        return None

    def submit(self, key: str, fn: Runner, who: str | None = None, warm: bool = False) -> Job:
        """The job for key: the existing one (live or finished), else a new one started on fn.

        Args:
            key: the job's name (page and settings).
            fn: called as fn(on_progress=..., cancel=...) in the job's thread when a new job is started.
            who: the asking session (recorded as watching the job).
            warm: a warm-up job: it runs without waiting for a worker and never stops for want of watchers.
        """
        with self._lock:
            job = self.get(key)
            if job is not None and job.stopping and not job.finished:
                job = None  # cancelled but not yet at its next step: a fresh job takes the key over
            if job is None:
                job = Job(key, warm, self.abandon_s)
                if who is not None:
                    job.watch(who)  # before its thread starts, so that it is never seen abandoned
                self._live[key] = job
                self.started[key] += 1
                if not warm:
                    self._queue.append(job)
                    self._renumber()
                threading.Thread(target=self._work, args=(job, fn), daemon=True,
                                 name=f"sharp-job {key[:60]}").start()
        if who is not None:
            job.watch(who)
        return job

    def _renumber(self) -> None:
        for i, j in enumerate(self._queue):  # the running jobs and the queued ones before it
            j.ahead = self._running + i

    def _work(self, job: Job, fn: Runner) -> None:
        lower_priority(self.nice)
        if not job.warm:
            with self._lock:
                while self._running >= self.workers or self._queue[0] is not job:
                    if job.should_stop():  # everyone left while it waited
                        self._queue.remove(job)
                        self._renumber()
                        if self._live.get(job.key) is job:
                            del self._live[job.key]
                        self._lock.notify_all()
                        job._end("cancelled")
                        return
                    self._lock.wait(0.5)
                self._queue.pop(0)
                self._running += 1
                self._renumber()
                self._lock.notify_all()
        with job._lock:
            job.state = "running"
        try:
            frame = fn(on_progress=job.on_progress, cancel=job.should_stop)
        except Cancelled:
            self._finish(job, "cancelled")
        except Exception as e:  # noqa: BLE001 - a page shows it (TooBig, ConfigError, or a bug) instead of crashing
            self._finish(job, "failed", error=e)
        else:
            self._finish(job, "done", frame)

    def _finish(self, job: Job, state: str, frame: pd.DataFrame | None = None,
                error: BaseException | None = None) -> None:
        with self._lock:
            if not job.warm:
                self._running -= 1
                self._renumber()
            if self._live.get(job.key) is job:
                del self._live[job.key]
            if state == "done":  # failed and cancelled jobs are forgotten: the next ask starts afresh
                self._done[job.key] = (job, int(frame.memory_usage(deep=True).sum()))
                self._evict()
            job._end(state, frame, error)
            self._lock.notify_all()

    def _evict(self) -> None:
        while self._done and (len(self._done) > self.max_results or self.bytes() > self.max_bytes):
            self._done.popitem(last=False)

    def bytes(self) -> int:
        """Memory held by finished frames (as pandas counts it)."""
        return sum(b for _, b in self._done.values())

    def stats(self) -> dict[str, int]:
        """Jobs started, live and kept, and the bytes kept (for tests, logs and the benchmark)."""
        with self._lock:
            return {"started": sum(self.started.values()), "live": len(self._live), "kept": len(self._done),
                    "bytes": self.bytes()}


_shared: Registry | None = None
_shared_lock = threading.Lock()


def shared() -> Registry:
    """The registry of this process (created on first use; every session of a server gets the same one)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Registry()
        return _shared
