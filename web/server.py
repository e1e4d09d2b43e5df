"""The server process: its start-up work before the first visitor, its shutdown, and its own HTTP routes.

`streamlit run app.py` finds the ASGI app that app.py builds when it is imported (st.App with `lifespan` and
`routes`), so the server runs `lifespan` once at start-up, before any visitor: it loads what the pages need
(torch, pandas, Plotly, the page controllers), tunes the interpreter, creates the process's one pool
(sharp.serve.pool.shared) and starts the warm-up. Every page is then ready when the server is, not when its
first visitor arrives. app.py's script calls `start()` too (it is idempotent), so a script run without the ASGI
app (AppTest) gets the same start-up.

Nothing here is per session: what the visitors share is plain thread-safe Python (sharp.serve), one per process.
"""
from __future__ import annotations

import gc
import importlib
import sys
import threading
from contextlib import asynccontextmanager
from typing import Any

from sharp.serve.pool import close_shared, shared
from sharp.serve.runtime import Collector
from web import guard, stream

SWITCH_S = 0.001  # how long a thread may hold the interpreter lock while another waits for it
GC_EVERY_S = 30.0  # a full garbage collection this often (sharp.serve.runtime.Collector)
PRELOAD = ("pandas", "plotly.graph_objects", "ui.live", "ui.figures", "ui.paper", "ui.paper_figures", "ui.kiosk",
           "ui.tour", "sharp.engine.sweep", "sharp.experiments", "sharp.serve.live_run")
_lock = threading.Lock()
_started: dict[str, Any] = {}  # what `start` made and `stop` ends: the collector


def start() -> None:
    """Once per process: preload, tune the interpreter, create the shared pool, start the warm-up."""
    with _lock:
        if _started:
            return
        import sharp

        sharp.engine_threads()  # torch threads per job ($SHARP_THREADS, default 1; sharp.settings)
        for name in PRELOAD:
            importlib.import_module(name)
        collector = tune_interpreter()
        pool = shared()
        _started["collector"] = collector  # from here on /api/status says ready
        from sharp.experiments import WARM
        from sharp.serve.warm import warm_up_once
        from ui.paper_figures import warm_figures

        warm_up_once(WARM, also=warm_figures)
        announce(pool.workers)


def announce(workers: int) -> None:
    """The server's one start-up line (address, live workers, store), with logging configured once for the
    server's own loggers."""
    import streamlit as st

    from sharp import logs
    from sharp.engine.store import cache_dir

    logs.configure(names=("sharp", "web", "ui"))
    logs.server_ready(logs.address(st.get_option("server.address"), st.get_option("server.port"),
                                   st.get_option("server.baseUrlPath")), workers=workers, store=cache_dir())


def stop() -> None:
    """Stop what `start` started: the pool's workers and computations, the collector (the ASGI app's
    shutdown, and the tests between two tests). A later `start` makes them anew."""
    with _lock:
        held = dict(_started)
        _started.clear()
    if "collector" in held:
        held["collector"].stop()
    close_shared()


def tune_interpreter() -> Collector:
    """Quicker hand-offs between threads, and start-up's objects out of the collector's sight (called by start).

    Streamlit's event loop (which answers the health endpoint and every browser) waits for each rerun's thread
    behind the interpreter lock held by other sessions' scripts and the training workers: a switch interval
    shorter than Python's default lets it answer sooner under load (tests/test_load.py).

    The collector: with a few hundred thousand long-lived objects (torch, pandas, plotly, streamlit), each full
    collection would pause every thread for a noticeable time. `gc.freeze()` puts the objects that exist now,
    after the preload, in a permanent generation the collector skips; a larger first-generation threshold makes
    collections rarer. So rare that the cycles every rerun leaves behind (each script run's module) would hardly
    ever be freed: a full collection runs every GC_EVERY_S seconds in a thread of its own, quick since the
    frozen objects are skipped. Returns that collector.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    sys.setswitchinterval(SWITCH_S)
    return Collector(GC_EVERY_S).start()


def base_path() -> str:
    """Streamlit's `server.baseUrlPath` (e.g. "demo/sharp"; "" when the app is served at the root)."""
    from streamlit import config

    return config.get_option("server.baseUrlPath") or ""


def under(base: str, routes: list) -> list:
    """The routes at their paths below `base`, where Streamlit serves the app's pages and its own routes.

    Streamlit puts its own routes (health, websocket, static files) under `server.baseUrlPath`, but an st.App's
    own `routes` stay where they are given: served as "/api/live" they would sit outside the prefix, where a proxy
    that forwards only the prefix never sends a request (tests/test_prefix_browser.py).
    Example: [r.path for r in under("demo/sharp", [Route("/api/live", f)])] -> ["/demo/sharp/api/live"]
    """
    from starlette.routing import Route
    from streamlit.url_util import make_url_path

    return [Route(make_url_path(base, r.path), r.endpoint, methods=r.methods, name=r.name) for r in routes]


def routes(base: str | None = None) -> list:
    """The server's own HTTP routes beside Streamlit's (Starlette routes), below `base` (default `base_path()`)."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def status(request: Any) -> JSONResponse:
        """What the server holds now: for the load tests, the replicas' proxy checks and an operator."""
        pool = shared() if _started else None
        return JSONResponse({"ready": pool is not None, "jobs": pool.stats() if pool else None,
                             "background": pool.background() if pool else {}})

    return under(base_path() if base is None else base, [Route("/api/status", status), *stream.routes(),
                                                          *guard.routes()])


@asynccontextmanager
async def lifespan(app: Any):
    """The ASGI app's start-up (everything in `start`, in a thread so the event loop stays free) and shutdown."""
    import asyncio

    await asyncio.get_running_loop().run_in_executor(None, start)
    yield {}
    stop()
