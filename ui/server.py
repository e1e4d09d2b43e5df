"""What one server process shares between its visitors, held by st.cache_resource: the registry of live runs."""
from __future__ import annotations

import streamlit as st

from sharp.registry import Registry, default_workers


@st.cache_resource(show_spinner=False)
def runs() -> Registry:
    """The server's shared live runs and their worker pool: $SHARP_LIVE_WORKERS threads (default: cores / torch
    threads), $SHARP_LIVE_ACTIVE runs advanced at once, $SHARP_LIVE_BUDGET_MB for finished runs (sharp/registry.py)."""
    import torch

    return Registry(workers=default_workers(torch.get_num_threads()))


@st.cache_resource(show_spinner=False)
def quiet_gc() -> None:
    """Once per server: load what every page needs, then move it all out of the garbage collector's sight.

    With a few hundred thousand long-lived objects (torch, pandas, plotly, streamlit), each full collection
    paused every thread of the server for 0.1 to 0.65 s, health endpoint included, several times a minute
    while 12 visitors streamed. `gc.freeze()` puts the objects that exist now, at start-up, in a permanent
    generation the collector skips; a larger first-generation threshold makes collections rarer. Objects
    created later are collected as usual.
    """
    import gc
    import importlib

    for name in ("pandas", "plotly.graph_objects", "ui.live", "ui.figures", "ui.paper", "sharp.sweep"):
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
