"""What one server process shares between its visitors, held by st.cache_resource: the registry of live runs."""
from __future__ import annotations

import sys

import streamlit as st

from sharp.serve.runtime import Collector
from sharp.serve.scheduler import Registry, default_workers


# on_release: a registry or collector dropped from the cache (st.cache_resource.clear(), as tests do between
# tests) stops its threads rather than leaving them running with nobody to reach them.
@st.cache_resource(show_spinner=False, on_release=Registry.close)
def runs() -> Registry:
    """The server's shared live runs and their worker pool: $SHARP_LIVE_WORKERS threads (default: cores / torch
    threads), $SHARP_LIVE_ACTIVE runs advanced at once, $SHARP_LIVE_BUDGET_MB for finished runs
    (sharp/serve/scheduler.py)."""
    import torch

    return Registry(workers=default_workers(torch.get_num_threads()))


SWITCH_S = 0.001  # how long a thread may hold the interpreter lock while another waits for it
GC_EVERY_S = 30.0  # a full garbage collection this often (sharp.engine.threads.Collector)


@st.cache_resource(show_spinner=False, on_release=Collector.stop)
def tune_interpreter() -> Collector:
    """Once per server: quicker hand-offs between threads, and start-up's objects out of the collector's sight.

    Streamlit's event loop (which answers the health endpoint and every browser) starts a new thread for each
    rerun, and waits until that thread has run: behind the interpreter lock held by other sessions' scripts and
    the training workers. A 1 ms switch interval (Python's default is 5 ms) brought the slowest health answer
    with 12 streaming sessions from 0.66-1.1 s to 0.29-0.65 s in the same setting (tests/test_load.py).

    The collector: load what every page needs, then move it all out of its sight. With a few hundred thousand
    long-lived objects (torch, pandas, plotly, streamlit), each full collection paused every thread of the
    server for 0.1 to 0.65 s, health endpoint included, several times a minute while 12 visitors streamed.
    `gc.freeze()` puts the objects that exist now, at start-up, in a permanent generation the collector skips;
    a larger first-generation threshold makes collections rarer. So rare that the cycles every rerun leaves
    behind were hardly ever freed: a full collection now runs every GC_EVERY_S seconds in a thread of its
    own (sharp.engine.threads.Collector), a few milliseconds each. Returns that collector.
    """
    import gc
    import importlib

    for name in ("pandas", "plotly.graph_objects", "ui.live", "ui.figures", "ui.paper", "sharp.engine.sweep"):
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    sys.setswitchinterval(SWITCH_S)
    return Collector(GC_EVERY_S).start()
