"""The live page's controller, testable without a browser: the visitor's settings across reruns, and the
definition of its charts.

The page keeps a visitor's `sharp.experiments.race.Settings` in the session (`settle`, changed only by the
visitor's own gestures) and defines its charts (`charts`: the browser draws them as the run streams in). The run
itself is `sharp.serve.live_run.LiveRun`, streamed into the page by web/stream.py.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import MutableMapping
from typing import Any

from sharp.experiments.race import RANGES, REGIMES, Settings, column_runs, parse_query
from ui.live_chart import StreamChart

SPURIOUS = 3  # settings changed by one rerun that cannot be one visitor's gesture (see settle)
_log = logging.getLogger(__name__)


def note_change(state: MutableMapping[str, Any], key: str) -> None:
    """A setting's widget moved (its on_change callback): remember it for `settle` at the start of the run."""
    state.setdefault("live_changes", {})[key] = state[key]


def settle(state: MutableMapping[str, Any], query: Any) -> Settings:
    """The visitor's settings for this script run; call it before any settings widget is drawn.

    The settings live in state["live_settings"], set from the URL at session start and afterwards changed
    only by the visitor: a widget's on_change (`note_change`) or a button. Every run then writes them into
    the widgets' keys, so a widget always shows them and the browser is told its value each run.

    Why not let the widgets hold the settings: under load a session can come out of a rerun with every widget
    at the bottom of its range, the default a Streamlit widget takes when it is registered without a stored
    value, and the page would then write those into the URL and run them. Here a widget that loses its value
    changes nothing: only callbacks do. And since a visitor's gesture moves one widget (a quick visitor perhaps
    two before the rerun), SPURIOUS or more widgets changing in one rerun is not a gesture: those changes are
    dropped and logged.

    Returns:
        The settings now in force (also in state["live_settings"]).
    """
    if "live_settings" not in state:
        state["live_settings"], state["live_problems"] = parse_query(query)
    changes = state.pop("live_changes", None) or {}
    s = state["live_settings"]
    if len(changes) >= SPURIOUS:
        _log.warning("ignored %d settings changed in one rerun (not a visitor's gesture): %s", len(changes), changes)
    elif changes:
        s = state["live_settings"] = dataclasses.replace(s, **changes)
    for key in RANGES:
        state[key] = getattr(s, key)
    return s


def charts(s: Settings) -> list[StreamChart]:
    """The live page's charts: test error, then distance from init, each with every run of both regimes (the race on
    one chart); the test error marks step ceil(ln d). Example: charts(DEFAULTS)[0].marker -> 4 (d = 50)"""
    runs = tuple(n for regime in REGIMES for n in column_runs(s, regime))
    marker = math.ceil(math.log(s.d))
    return [StreamChart("error", "Test error", "test_error", runs, s.steps, s.log_x, 0.55, marker,
                        f"⌈ln d⌉ = {marker}"),
            StreamChart("distance", "Distance from init  ‖W − W₀‖ / ‖W₀‖", "distance", runs, s.steps, s.log_x, 0.5)]
