"""A blocking computation as a job the pool can run in time slices: `FunctionJob`.

The paper pages' sweeps, the warm-up, the kiosk's scenes and the tour's runs are ordinary functions
`fn(on_progress=..., cancel=...) -> result` that report progress after every logged step (sharp.engine.sweep).
A FunctionJob runs such a function on a thread of its own that computes only while the pool has lent it
a worker's turn: the pool's worker calls `advance(budget_s)`, which wakes the job's thread and waits
until the thread hands the turn back at its next progress report or SGD step after the budget (the training
loop's step hook, sharp.engine.train.STEP_HOOK, so that a run logged rarely does not hold a turn for seconds),
or finishes. So however
many computations are under way, at most as many threads compute as the pool has workers, and a
computation nobody gives a turn to waits, parked, without costing CPU. The thread is started at the first
turn (never for a job still queued), and `close` ends it at its next progress report.

Nothing here knows about Streamlit or sessions: who watches a job is the pool's business.

Example:
    >>> job = FunctionJob(lambda on_progress, cancel: pd.DataFrame({"x": [1]}))
    >>> while not job.done: job.advance(0.05)
    >>> job.state, job.result.x.tolist()
    ('done', [1])
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sharp.engine.sweep import Cancelled
from sharp.engine.train import STEP_HOOK

# fn(on_progress=..., cancel=...) -> the result; raises sharp.engine.sweep.Cancelled when cancel() turns True.
Runner = Callable[..., Any]
_RUN = re.compile(r"^\[(\d+)/(\d+)\].* (done|cached)$")


@dataclass(frozen=True)
class Status:
    """What a page shows about a computation at one moment."""

    state: str  # "queued", "running", "done", "failed" or "cancelled"
    fraction: float  # 0..1, estimated work done
    message: str  # the sweep's last progress line, e.g. "[3/42] d=8 n=64 m=20 depth=1 step 120"
    runs_done: int  # finished runs (cached ones included)
    runs_total: int  # runs in the sweep (0 until the first progress line)
    ahead: int  # computations a visitor waits for that run or wait before this one (0 unless queued)
    warm: bool  # background work for everyone (the warm-up, the kiosk)
    watchers: int  # sessions that looked at it recently


def nbytes(result: Any) -> int:
    """Memory a finished result holds, roughly: a frame's own count, else its `nbytes()`, else 64 kB."""
    if isinstance(result, pd.DataFrame):
        return int(result.memory_usage(deep=True).sum())
    size = getattr(result, "nbytes", None)
    return int(size()) if callable(size) else 1 << 16


class FunctionJob:
    """A blocking fn(on_progress=, cancel=) run in turns lent by the pool (see the module docstring).

    Args:
        fn: the computation; it must call on_progress now and then (after every logged step) and stop with
            sharp.engine.sweep.Cancelled when cancel() returns True.
    Its thread is started by the pool's worker at the first turn, so it inherits the worker's lowered CPU
    priority (threads inherit their creator's niceness on Linux).
    """

    def __init__(self, fn: Runner):
        self._fn = fn
        self._cond = threading.Condition()
        self._turn = False  # the job's thread may compute (until _deadline)
        self._deadline = 0.0
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = False
        self.state = "queued"
        self.result: Any = None
        self.error: BaseException | None = None
        self._progress = (0.0, 1.0, "")
        self._runs = (0, 0)

    # --- the pool's side ---

    def advance(self, budget_s: float) -> int:
        """Let the job compute for about budget_s seconds (until its next progress report after that)."""
        with self._cond:
            if self.done:
                return 0
            if self._thread is None:
                self.state = "running"
                self._thread = threading.Thread(target=self._main, daemon=True, name="sharp-job")
                self._thread.start()
            self._deadline, self._turn = time.monotonic() + budget_s, True
            self._cond.notify_all()
            while self._turn and not self.done:
                self._cond.wait()
        return 1

    def nbytes(self) -> int:
        return nbytes(self.result) if self.state == "done" else 0

    def close(self) -> None:
        """Stop at the next progress report (or now, if it never started)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            if self._thread is None and not self.done:
                self._end("cancelled")

    # --- anyone ---

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to timeout seconds; True once the job has finished (done, failed or cancelled)."""
        return self._finished.wait(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def progress(self) -> tuple[float, int, int, str]:
        """(fraction done, runs done, runs in all, last message)."""
        with self._cond:
            done, total, message = self._progress
            fraction = 1.0 if self.state == "done" else min(done / total, 1.0) if total > 0 else 0.0
            return fraction, self._runs[0], self._runs[1], message

    # --- the job's thread ---

    def _main(self) -> None:
        self._wait_turn()
        STEP_HOOK.set(self._between_steps)  # this thread's context: its training hands the turn back in time
        try:
            result = self._fn(on_progress=self._on_progress, cancel=self._stop.is_set)
        except Cancelled:
            self._finish("cancelled")
        except Exception as e:  # noqa: BLE001 - a page shows it (TooBig, ConfigError, or a bug) instead of crashing
            self._finish("failed", error=e)
        else:
            self._finish("done", result)

    def _on_progress(self, done: float, total: float, message: str) -> None:
        """The sweep's progress callback: record it, and hand the turn back once the budget is spent."""
        m = _RUN.match(message)
        with self._cond:
            self._progress = (done, total, message)
            if m:
                self._runs = (int(m[1]), int(m[2]))
            elif message.startswith("[") and "/" in message:
                i, n = message[1:].split("]")[0].split("/")
                if i.isdigit() and n.isdigit():
                    self._runs = (int(i) - 1, int(n))
            if time.monotonic() >= self._deadline:
                self._turn = False
                self._cond.notify_all()
        self._wait_turn()

    def _between_steps(self) -> None:
        """Before each SGD step: once the turn's budget is spent, hand the turn back and wait for the next; a closed
        job stops here (it must not compute outside a turn until its next progress report)."""
        if time.monotonic() < self._deadline:  # the common case, without the lock
            return
        with self._cond:
            if time.monotonic() >= self._deadline and self._turn:
                self._turn = False
                self._cond.notify_all()
        self._wait_turn()
        if self._stop.is_set():
            raise Cancelled(pd.DataFrame())

    def _wait_turn(self) -> None:
        with self._cond:
            while not self._turn and not self._stop.is_set():
                self._cond.wait()

    def _finish(self, state: str, result: Any = None, error: BaseException | None = None) -> None:
        with self._cond:
            self._end(state, result, error)
            self._turn = False
            self._cond.notify_all()

    def _end(self, state: str, result: Any = None, error: BaseException | None = None) -> None:
        self.state, self.result, self.error, self.done = state, result, error, True
        self._finished.set()
