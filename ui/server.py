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
