"""The server process's own upkeep: thread priorities, memory handed back to the OS, and a timed collector."""
from __future__ import annotations

import ctypes
import gc
import os
import threading
import time


def lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority (Linux: nice is per thread; threads it starts inherit it).

    The workers train at a lower priority than the server's own threads, so the pages' redraws and the
    health endpoint are answered first when the cores are busy; training takes whatever is left.
    """
    if nice > 0 and hasattr(os, "setpriority"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        except OSError:
            pass


def release_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise, so memory would look leaked)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Collector:
    """A daemon thread that runs a full garbage collection every `every_s` seconds, for a long-lived server.

    Streamlit runs each page script in a fresh module; the functions the script defines refer back to that
    module, so every rerun leaves a reference cycle that holds what the run's globals held (the shared run,
    its frames, figures). Only a full collection frees such cycles, and with start-up's objects frozen and a
    large first threshold (web.server.tune_interpreter) the interpreter would hardly ever run one: dead script
    modules would hold finished runs long after the pool let them go. A timed collection bounds that, and
    is quick, since the frozen objects are skipped.

    Example:
        >>> c = Collector(30.0).start(); ...; c.stop()
    """

    def __init__(self, every_s: float):
        self.every_s = every_s
        self.collections = 0
        self.longest_s = 0.0  # the longest pause a collection caused
        self._ran = threading.Condition()  # notified after each collection
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sharp-gc")

    def start(self) -> Collector:
        self._thread.start()
        return self

    def wait(self, collections: int, timeout: float) -> bool:
        """Block until `collections` collections have run in all (at most timeout seconds); whether they have."""
        with self._ran:
            return self._ran.wait_for(lambda: self.collections >= collections, timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            t = time.perf_counter()
            gc.collect()
            with self._ran:
                self.longest_s = max(self.longest_s, time.perf_counter() - t)
                self.collections += 1
                self._ran.notify_all()
