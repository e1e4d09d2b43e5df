"""A disk cache of finished runs: one Parquet file per configuration, written atomically.

The key is the SHA-256 of the run's full configuration, the package version, a digest of the engine's
source and a cache schema version, so a second visitor, a restart or an overlapping grid gets a run back at
once, and neither a new release nor an edited engine ever reads old numbers. A file that cannot be read
(truncated, garbage) is deleted and the run is recomputed; two processes writing the same entry at once
both succeed, and the last rename wins with a complete file (each writer renames its own temporary file
into place, and os.replace is atomic).

The folder is $SHARP_CACHE_DIR when set, else platformdirs.user_cache_dir("sharp").
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import platformdirs

from sharp.engine.config import Config

# Bump when the tidy frame's columns or meaning change: old entries are then never read.
SCHEMA = 1
ENV = "SHARP_CACHE_DIR"
# The modules whose code decides a run's numbers.
ENGINE_FILES = ("config.py", "data.py", "nets.py", "metrics.py", "train.py", "sweep.py")


def cache_dir() -> Path:
    """The cache folder: $SHARP_CACHE_DIR if set, else the user's cache directory for "sharp"."""
    return Path(os.environ.get(ENV) or platformdirs.user_cache_dir("sharp"))


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
    except (OSError, ValueError, RuntimeError):  # pyarrow raises ArrowInvalid (a ValueError) on garbage
        p.unlink(missing_ok=True)
        return None


def store(cfg: Config, frame: pd.DataFrame, root: Path | None = None) -> Path | None:
    """Write the frame atomically: a temporary file in the same folder, then os.replace.

    Returns the entry's path, or None when the cache folder is not writable (the run still stands).
    """
    p = path(cfg, root)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".parquet")
    except OSError:
        return None
    try:
        with os.fdopen(fd, "wb") as fh:
            frame.to_parquet(fh, index=False)
        os.replace(tmp, p)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return None
    return p


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
        store(cfg, frame, root)
    return frame, False


def clear(root: Path | None = None) -> int:
    """Delete every entry; returns how many files were removed."""
    removed = 0
    for p in (root or cache_dir()).glob("*/*.parquet"):
        p.unlink(missing_ok=True)
        removed += 1
    return removed
