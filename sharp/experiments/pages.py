"""Every page's link in one registry: the URL parameters each page reads, what each accepts, and its defaults.

The pages read their links through these specs (`sharp.experiments.params.parse`: one parser, one message
format), and the tests' URL fuzz reads this registry, so every page listed here is fuzzed, and a page of the
app missing here fails the tests. A setting that is a Config field takes that field's Param narrowed to what
the page offers (`params.field`), so its kind and outer range are written once, in sharp.engine.config.

Example:
    >>> PAGES["figure1"].spec["seeds"].describe()
    'an integer from 1 to 20'
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sharp.experiments import DEEP, DIGITS, FIG1, ITERATIONS, NSTAR, REGIME, SAMPLES, THEORY, race, scenes, tour
from sharp.experiments.params import Bool, Choice, Float, Int, Param, parse
from sharp.experiments.params import field as F


@dataclass(frozen=True)
class Link:
    """What one page's link carries."""

    spec: dict[str, Param]  # parameter -> what it accepts
    defaults: dict[str, Any]  # parameter -> the page's default (named in the messages)
    fixed: dict[str, str] = field(default_factory=dict)  # carried by every link to the page (the kiosk's kiosk=1)

    def parse(self, query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """The values a link gives and a message per problem (`sharp.experiments.params.parse`)."""
        return parse(query, self.spec, self.defaults)


def _subset(name: str, options: list[int], of: str | None = None) -> Param:
    return F(name, choices=options, many=True, of=of)


def _link(spec: dict[str, Param], defaults: dict[str, Any], **fixed: str) -> Link:
    return Link(spec, {k: defaults[k] for k in spec}, fixed)


FIG1_DS = [25, 50, 100, 200, 400, 800, 1600]
ITERATIONS_DS = [25, 50, 100, 200, 400, 800]
SAMPLES_DS, SAMPLES_NS = [8, 16, 32, 64], [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
NSTAR_DS = {"feature": [16, 32, 64, 128, 256, 512, 1024], "kernel": [8, 16, 32, 64], "linearized": [8, 16, 32, 64]}
DIGITS_NS = [25, 50, 100, 200, 400, 700]

# Keyed by the page's script (views/<key>.py); the kiosk is views/kiosk.py, opened as /?kiosk=1.
PAGES: dict[str, Link] = {
    "live": _link(race.SPEC, dataclasses.asdict(race.DEFAULTS)),
    "figure1": _link({"d": _subset("d", FIG1_DS), "seeds": F("seeds", 1, 20), "steps": F("steps", 4, 40),
                      "m": F("m", 2, 200)}, FIG1.defaults),
    "iterations": _link({"d": _subset("d", ITERATIONS_DS), "seeds": F("seeds", 1, 10),
                         "kernel_steps": F("kernel_steps", 10, 2000, of="steps"),
                         "kernel_m": F("kernel_m", choices=[256, 512, 1024, 2048], of="m"),
                         "threshold": Float(0.0, 0.4)}, ITERATIONS.defaults),
    "nstar": _link({f"{r}_d": _subset(f"{r}_d", ds, of="d") for r, ds in NSTAR_DS.items()}
                   | {"seeds": F("seeds", 1, 6)}, NSTAR.defaults),
    "samples": _link({"d": _subset("d", SAMPLES_DS), "n": _subset("n", SAMPLES_NS), "seeds": F("seeds", 1, 6),
                      "c_lin": Float(0.1, 100.0), "c_quad": Float(0.01, 10.0)}, SAMPLES.defaults),
    "deep": _link({"L": _subset("L", [1, 2, 3, 4], of="depth"), "m": _subset("m", [32, 64, 128, 256, 512, 1024]),
                   "n": _subset("n", [25, 50, 100, 200, 400, 800, 1600]),
                   "m0": F("m0", choices=[32, 64, 128, 256, 512], of="m"),
                   "n0": F("n0", choices=[50, 100, 200, 400, 800], of="n"), "seeds": F("seeds", 1, 6),
                   "activation": F("activation", choices=["softplus", "gelu"])}, DEEP.defaults),
    "digits": _link({"plus": Choice(list(range(10))), "minus": Choice(list(range(10))),
                     "ns": _subset("ns", DIGITS_NS, of="n"), "m": F("m", 16, 1000), "steps": F("steps", 10, 400),
                     "seeds": F("seeds", 1, 3)}, DIGITS.defaults),
    "theory": _link({"d": F("d", 4, 1600), "m": F("m", 16, 1024), "n": F("n", 20, 2000), "L": F("L", 1, 4, of="depth")},
                    THEORY.defaults),
    "regime": _link({"d": F("d", choices=[20, 30, 40, 50]), "steps": F("steps", choices=[50, 100, 200, 400]),
                     "seeds": F("seeds", 1, 4)}, REGIME.defaults),
    "tour": _link({"step": Int(1, len(tour.STEPS))}, {"step": 1}),
    "trajectories": _link({"m": F("m", choices=tour.KERNEL_MS), "eta": F("eta", choices=tour.FEATURE_ETAS)},
                          {"m": 1024, "eta": 20.0}),
    "kiosk": _link({"kiosk": Bool(), "scene_s": Float(3.0, 600.0, unit="seconds"),
                    "idle_s": Float(5.0, 3600.0, unit="seconds"), "start": Choice(list(scenes.BY_KEY))},
                   {"kiosk": True, **dataclasses.asdict(scenes.Options())}, kiosk="1"),
}

# The live page's stream route (/api/live, web.stream): the page's settings (PAGES["live"]) plus its own parameters,
# which the browser's script sends; `viewer` is any short text naming the page (not parsed).
STREAM = Link({"have": Int(0, 1 << 30), "until": Int(0, 1 << 30), "upto": Int(0, 1 << 30), "want": Bool(),
               "play": Bool(), "neurons": Bool()},
              {"have": 0, "until": None, "upto": None, "want": False, "play": False, "neurons": False})
