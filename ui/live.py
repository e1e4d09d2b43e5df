"""The live page's controller, testable without a browser: the visitor's settings across reruns, and the
charts of a run's columns.

The page keeps a visitor's `sharp.experiments.race.Settings` in the session (`settle`, changed only by the
visitor's own gestures) and draws the shared run's curves per regime column (`column_panels`, `curve_charts`).
The run itself is `sharp.serve.live_run.LiveRun`, streamed into the page by web/stream.py.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import MutableMapping
from typing import Any

from sharp.experiments.curves import curve
from sharp.experiments.race import RANGES, REGIMES, Settings, column_runs, parse_query
from sharp.serve.live_run import Frame, LiveRun
from ui import figures

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


def column_panels(run: LiveRun | Frame) -> dict[str, list[figures.Panel]]:
    """Per regime, its column's test-error and distance panels, with y-ranges shared by both columns.

    The shared ranges come from the runs that did not diverge (a blown-up run would flatten the others);
    the feature side marks step ceil(ln d).
    Example: column_panels(run)["feature"][0].marker -> 4 (d = 50)
    """
    s = run.settings
    err = {n: curve(n, snaps, "test_error") for n, snaps in run.history.items() if snaps}
    dist = {n: curve(n, snaps, "distance") for n, snaps in run.history.items() if snaps}
    sane = [n for n in err if not run.latest(n).diverged] or list(err)
    err_range = figures.shared_range([err[n] for n in sane], at_least=0.55)
    dist_range = figures.shared_range([dist[n] for n in sane], at_least=0.5)
    marker, out = math.ceil(math.log(s.d)), {}
    for regime in REGIMES:
        names = [n for n in column_runs(s, regime) if n in err]
        out[regime] = [figures.Panel([err[n] for n in names], "Test error", err_range,
                                     marker if regime == "feature" else None, f"⌈ln d⌉ = {marker}"),
                       figures.Panel([dist[n] for n in names], "Distance from init  ‖W − W₀‖ / ‖W₀‖", dist_range)]
    return out


def curve_charts(run: LiveRun | Frame, log_x: bool = False, hover: bool = False) -> dict[str, str]:
    """Per regime, its column's panels (`column_panels`) as an SVG chart; `hover` adds per-step tooltips.

    Example: curve_charts(run)["feature"].startswith("<svg")
    """
    return {regime: figures.curves_svg(panels, x_max=run.settings.steps, log_x=log_x, chart=f"curves-{regime}",
                                       hover=hover)
            for regime, panels in column_panels(run).items()}
