"""What one server process shares between its visitors, and the work it does when it starts.

`streamlit run app.py` finds the ASGI app that app.py builds when it is imported (st.App with `lifespan`
and `routes`), so the server
runs `lifespan` once at start-up, before any visitor: it loads what the pages need (torch, pandas, Plotly,
the page controllers), tunes the interpreter, creates the shared objects below and starts the warm-up.
Every page is then ready when the server is, not when its first visitor arrives. Pages and tests call
`start()` too (it is idempotent), so a script run without the ASGI app (AppTest) gets the same objects.

Nothing here is per session: the objects are plain thread-safe Python (sharp.serve), one per process.
"""
from __future__ import annotations

import importlib
import logging
import sys
import threading
from contextlib import asynccontextmanager
from typing import Any

from sharp.serve.runtime import Collector
from sharp.serve.scheduler import Scheduler, close_shared, default_workers, shared

SWITCH_S = 0.001  # how long a thread may hold the interpreter lock while another waits for it
GC_EVERY_S = 30.0  # a full garbage collection this often (sharp.serve.runtime.Collector)
PRELOAD = ("pandas", "plotly.graph_objects", "ui.live", "ui.stream", "ui.figures", "ui.paper", "ui.kiosk",
           "ui.tour", "sharp.engine.sweep", "sharp.experiments")
_log = logging.getLogger(__name__)
_lock = threading.Lock()
_shared: dict[str, Any] = {}


def start() -> dict[str, Any]:
    """Once per process: preload, tune the interpreter, create the shared objects, start the warm-up.

    Returns the shared objects by name ("scheduler": the one Scheduler of every training job, "collector").
    """
    with _lock:
        if _shared:
            return _shared
        import sharp

        sharp.engine_threads()  # a bounded share of the cores per server ($SHARP_THREADS, default min(2, cores))
        for name in PRELOAD:
            importlib.import_module(name)
        _shared["collector"] = tune_interpreter()
        import torch

        _shared["scheduler"] = shared(workers=default_workers(torch.get_num_threads()))
        from sharp.experiments import WARM
        from sharp.serve.warm import warm_up_once

        warm_up_once(WARM, also=lambda: importlib.import_module("ui.paper").warm_figures())
        _log.info("sharp server ready: %s", _shared["scheduler"].stats())
        return _shared


def stop() -> None:
    """Stop what `start` started: the scheduler's workers and computations, the collector (the ASGI app's
    shutdown, and the tests between two tests). A later `start` makes them anew."""
    with _lock:
        held = dict(_shared)
        _shared.clear()
    if "collector" in held:
        held["collector"].stop()
    close_shared()


def scheduler() -> Scheduler:
    """The server's one scheduler of training jobs (live runs, sweeps, warm-up, kiosk, tour): $SHARP_WORKERS
    threads (default: cores / torch threads), $SHARP_ACTIVE live runs advanced at once, $SHARP_MEMORY_MB for
    finished jobs, $SHARP_NICE below the server's threads (sharp/serve/scheduler.py)."""
    return start()["scheduler"]



def tune_interpreter() -> Collector:
    """Quicker hand-offs between threads, and start-up's objects out of the collector's sight (called by start).

    Streamlit's event loop (which answers the health endpoint and every browser) waits for each rerun's thread
    behind the interpreter lock held by other sessions' scripts and the training workers. A 1 ms switch
    interval (Python's default is 5 ms) brought the slowest health answer with 12 streaming sessions from
    0.66-1.1 s to 0.29-0.65 s in the same setting (tests/test_load.py).

    The collector: with a few hundred thousand long-lived objects (torch, pandas, plotly, streamlit), each full
    collection paused every thread for 0.1 to 0.65 s. `gc.freeze()` puts the objects that exist now, after
    the preload, in a permanent generation the collector skips; a larger first-generation threshold makes
    collections rarer. So rare that the cycles every rerun leaves behind (each script run's module) were
    hardly ever freed: a full collection now runs every GC_EVERY_S seconds in a thread of its own, a few
    milliseconds each. Returns that collector.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    sys.setswitchinterval(SWITCH_S)
    return Collector(GC_EVERY_S).start()


def routes() -> list:
    """The server's own HTTP routes beside Streamlit's (Starlette routes)."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def status(request: Any) -> JSONResponse:
        """What the server holds now: for the load tests, the replicas' proxy checks and an operator."""
        sched = _shared.get("scheduler")
        return JSONResponse({"ready": sched is not None, "jobs": sched.stats() if sched else None,
                             "background": sched.background() if sched else {}})

    from ui import guard, stream

    return [Route("/api/status", status), *stream.routes(), *guard.routes()]


@asynccontextmanager
async def lifespan(app: Any):
    """The ASGI app's start-up (everything in `start`, in a thread so the event loop stays free) and shutdown."""
    import asyncio

    await asyncio.get_running_loop().run_in_executor(None, start)
    yield {}
    stop()

