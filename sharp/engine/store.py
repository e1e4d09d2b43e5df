"""The one store of finished runs on disk: a run's frame is a pure function of its configuration and of the
engine's code, so it is computed once and read back by every later sweep, page, server or replica.

Two kinds of entry, both keyed by `key(cfg)`, the SHA-256 of the run's full configuration, the package
version, a digest of the engine's source (`ENGINE_FILES`: not the pages' or tables' code) and a schema:
- a sweep run's tidy frame: one Parquet file per configuration (`load`, `save`, `cached`);
- a live page's compared runs with their snapshots: one gzipped JSON file per set of configurations
  (`load_history`, `save_history`), so a restart or an evicted run costs no training.
Neither a new release nor an edited engine ever reads old numbers. Writes are atomic: a temporary file in the
same folder, then os.replace, so two processes (two replicas) writing the same entry both succeed and the
last rename wins with a complete file. A file that cannot be read (truncated, garbage, another schema) is
ignored with a log line, deleted, and its run computed again; a store that cannot be written is logged and
the run still stands.

The folder is $SHARP_CACHE_DIR when set, else platformdirs.user_cache_dir("sharp").
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sharp.engine.config import Config
from sharp.engine.snapshot import Snapshot
from sharp.settings import env, var

# Bump when the tidy frame's columns or meaning change: old entries are then never read.
SCHEMA = 2  # 2: `diverged` is per seed
ENV = var("cache_dir")
# The modules whose code decides a run's numbers.
ENGINE_FILES = ("config.py", "data.py", "nets.py", "metrics.py", "snapshot.py", "train.py", "sweep.py")
_ARRAYS = ("neuron_relevant", "neuron_rest")  # a snapshot's array fields
_log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """The cache folder: $SHARP_CACHE_DIR if set, else the user's cache directory for "sharp" (sharp.settings)."""
    return env().cache_dir


@functools.cache
def engine_fingerprint() -> str:
    """A digest of the engine's source: an edit to the maths (between releases too) never reads old runs."""
    src = Path(__file__).parent
    h = hashlib.sha256()
    for name in ENGINE_FILES:
        h.update((src / name).read_bytes())
    return h.hexdigest()[:16]


def key(cfg: Config) -> str:
    """A hex digest naming the run: the full configuration, the package version, the engine's source
    fingerprint and the schema.

    Example:
        >>> key(preset("feature")) == key(preset("feature")) != key(preset("feature", d=50))
        True
    """
    from sharp import __version__

    blob = json.dumps({"config": cfg.to_dict(), "version": __version__, "engine": engine_fingerprint(),
                       "schema": SCHEMA}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def path(cfg: Config, root: Path | None = None) -> Path:
    """Where the run's entry lives (two-level fan-out keeps folders small)."""
    k = key(cfg)
    return (root or cache_dir()) / k[:2] / f"{k}.parquet"


def load(cfg: Config, root: Path | None = None) -> pd.DataFrame | None:
    """The cached frame, or None when missing; an unreadable entry is deleted and reported as missing."""
    p = path(cfg, root)
    if not p.exists():
        return None
    try:
        return pd.read_parquet(p)
    except (OSError, ValueError, RuntimeError) as e:  # pyarrow raises ArrowInvalid (a ValueError) on garbage
        _discard(p, e)
        return None


def save(cfg: Config, frame: pd.DataFrame, root: Path | None = None) -> Path | None:
    """Write the frame atomically. Returns the entry's path, or None when the folder is not writable."""
    p = path(cfg, root)
    return p if _write(p, lambda fh: frame.to_parquet(fh, index=False)) else None


def _write(p: Path, write: Callable[[Any], None]) -> bool:
    """Atomically: a temporary file in the same folder, then os.replace. False (and a log line) on failure."""
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=p.suffix)
    except OSError as e:
        _log.warning("cannot write to the store in %s: %s", p.parent, e)
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, p)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        _log.warning("cannot write %s: %s", p, e)
        return False
    return True


def _discard(p: Path, why: BaseException) -> None:
    _log.warning("ignoring an unreadable store entry %s (%s: %s); its run is computed again", p,
                 type(why).__name__, str(why)[:200])
    p.unlink(missing_ok=True)


def cached(cfg: Config, compute: Callable[[Config], pd.DataFrame], root: Path | None = None,
           use: bool = True) -> tuple[pd.DataFrame, bool]:
    """The run's frame from the cache, or computed and stored.

    Args:
        cfg: the run.
        compute: cfg -> its tidy frame (called only on a miss).
        root: cache folder (default `cache_dir()`).
        use: False bypasses the cache entirely (neither read nor written).
    Returns:
        (frame, hit).
    Example:
        >>> df, hit = cached(preset("feature", d=20, steps=3), lambda c: tidy(c, list(train(c))))
    """
    if use:
        frame = load(cfg, root)
        if frame is not None:
            return frame, True
    frame = compute(cfg)
    if use:
        save(cfg, frame, root)
    return frame, False


# --- a live page's compared runs ------------------------------------------------------------------------------

def history_path(configs: Mapping[str, Config], root: Path | None = None) -> Path:
    """The file of a compared set of runs (named by each run's `key`)."""
    blob = json.dumps({name: key(c) for name, c in sorted(configs.items())} | {"schema": SCHEMA})
    digest = hashlib.sha256(blob.encode()).hexdigest()
    return (root or cache_dir()) / "live" / f"{digest[:40]}.json.gz"


def save_history(configs: Mapping[str, Config], history: Mapping[str, list[Snapshot]],
                 root: Path | None = None) -> bool:
    """Store a finished set of runs; False (and a log line) when the folder is not writable.

    Example:
        >>> save_history(configs, history); load_history(configs)["feature"][-1].test_error
    """
    def records(s: Snapshot) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in dataclasses.asdict(s).items()}

    blob = json.dumps({name: [records(s) for s in snaps] for name, snaps in history.items()}).encode()
    return _write(history_path(configs, root), lambda raw: _gzip(raw, blob))


def _gzip(raw: Any, blob: bytes) -> None:
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5) as fh:
        fh.write(blob)


def load_history(configs: Mapping[str, Config], root: Path | None = None) -> dict[str, list[Snapshot]] | None:
    """The stored history of this set of runs, or None when there is none (or it cannot be read)."""
    p = history_path(configs, root)
    if not p.exists():
        return None
    try:
        with gzip.open(p, "rb") as fh:
            data = json.loads(fh.read())
        return {name: [_snapshot(d) for d in data[name]] for name in configs}
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
        _discard(p, e)
        return None


def _snapshot(d: dict) -> Snapshot:
    fields = {}
    for f in dataclasses.fields(Snapshot):
        v = d[f.name]
        if f.name in _ARRAYS:
            v = np.asarray(v, np.float32)
        elif isinstance(v, list):
            v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
        fields[f.name] = v
    return Snapshot(**fields)
