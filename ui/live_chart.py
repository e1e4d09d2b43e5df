"""The live page's charts, defined once: a `StreamChart` is what the browser draws and extends as a run's rows
stream in, and what the server saves as an SVG file.

Why uPlot in the browser and not Plotly: the live view redraws its charts ten or more times a second, and a
Plotly.js redraw of these charts with their bands costs a browser about ten times a uPlot redraw, with a script
twenty times the size (scripts/chart_bench.py; web/static/vendor/ holds uPlot). The definition stays here, in
Python, as data: web/static/live.js only turns it into uPlot's options and hands it rows.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sharp import Snapshot
from sharp.experiments.curves import curve
from ui.figures import (
    BAND_ALPHA,
    COLORS,
    DASHED,
    LABELS,
    PAD,
    TICK_FONT,
    Panel,
    curves_svg,
    shared_range,
)
from ui.palette import NEUTRAL, rgba
from ui.ticks import log_ticks, nice_ticks


@dataclass(frozen=True)
class StreamChart:
    """A chart of runs' curves over SGD steps that the live page's browser draws, and extends as rows arrive.

    This object is the chart's one definition: `spec()` sends it to the browser, whose script (web/static/live.js)
    turns it into uPlot's options once and then only appends rows; `svg()` draws the same chart as a file. Each
    run is a line (its mean over seeds) in its colour, with a band (min to max over seeds) behind it. The y axis
    runs from 0 to the highest band of the runs that did not diverge (a blown-up run would flatten the others),
    at least `at_least`, padded by PAD (`shared_range`).

    Example: StreamChart("error", "Test error", "test_error", ("kernel", "feature"), x_max=300, at_least=0.55)
    """

    name: str  # on the page data-chart="live-<name>"; the name of its downloaded file
    title: str
    metric: str  # the snapshots' metric it draws: "test_error", "distance"
    runs: tuple[str, ...]  # in legend order
    x_max: int  # the run's last step: the axis is fixed and the lines grow left to right
    log_x: bool = False
    at_least: float = 0.0
    marker: int | None = None  # a step marked with a dashed vertical line, e.g. ceil(ln d)
    marker_label: str = ""

    def x_ticks(self) -> list[float]:
        return log_ticks(1, max(self.x_max, 1)) if self.log_x else nice_ticks(0, max(self.x_max, 1), 6)

    def spec(self) -> dict:
        """The chart as JSON for the browser: title, axes (log or linear, fixed x range and ticks, the y rule), the
        marker, and per run its label, colour, band colour and dash. Example: spec()["lines"][0]["label"]"""
        return {"name": self.name, "chart": f"live-{self.name}", "title": self.title, "metric": self.metric,
                "x_max": self.x_max, "log_x": self.log_x, "x_ticks": self.x_ticks(),
                "x_label": "SGD step" + (" (log scale)" if self.log_x else ""),
                "y_at_least": self.at_least, "y_pad": PAD, "font_px": TICK_FONT,
                "marker": None if self.marker is None else {"x": self.marker, "label": self.marker_label},
                "lines": [{"run": r, "label": LABELS.get(r, r), "color": COLORS.get(r, NEUTRAL),
                           "band": rgba(COLORS.get(r, NEUTRAL), BAND_ALPHA), "dash": list(DASHED.get(r, ()))}
                          for r in self.runs]}

    def svg(self, history: Mapping[str, Sequence[Snapshot]], plot_height: int = 200) -> str:
        """The chart drawn from a run's snapshots (every logged step in `history`) as an SVG file's text."""
        curves = {r: curve(r, history[r], self.metric) for r in self.runs if history.get(r)}
        sane = [r for r in curves if not history[r][-1].diverged] or list(curves)
        y_range = shared_range([curves[r] for r in sane], at_least=self.at_least)
        panel = Panel(list(curves.values()), self.title, y_range, self.marker, self.marker_label)
        return curves_svg([panel], x_max=self.x_max, log_x=self.log_x, chart=f"live-{self.name}",
                          plot_height=plot_height)
