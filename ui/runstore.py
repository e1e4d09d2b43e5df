"""Finished live runs on disk, so a restart, or a run evicted from the server's memory, costs no training.

One gzipped JSON file per compared set of runs (the live page's kernel and feature runs, plus the overlay),
named by the disk cache's keys of their configurations (sharp.engine.store.key: the configuration, the package
version and the engine's source), so an edited engine never replays old numbers. Written atomically (a
temporary file, then os.replace); an unreadable file is deleted and the run computed again.

Example:
    >>> save(configs, history); load(configs)["feature"][-1].test_error
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sharp.engine import store as cache
from sharp.engine.config import Config
from sharp.engine.train import Snapshot

SCHEMA = 1  # bump when the stored fields change
_ARRAYS = ("neuron_relevant", "neuron_rest")
_log = logging.getLogger(__name__)


def path(configs: Mapping[str, Config], root: Path | None = None) -> Path:
    """The file of a compared set of runs."""
    blob = json.dumps({name: cache.key(c) for name, c in sorted(configs.items())} | {"schema": SCHEMA})
    digest = hashlib.sha256(blob.encode()).hexdigest()
    return (root or cache.cache_dir()) / "live" / f"{digest[:40]}.json.gz"


def _record(s: Snapshot) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in dataclasses.asdict(s).items()}


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


def save(configs: Mapping[str, Config], history: Mapping[str, list[Snapshot]], root: Path | None = None) -> bool:
    """Store a finished set of runs; False (and a log line) when the folder is not writable."""
    p = path(configs, root)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".json.gz")
    except OSError as e:
        _log.warning("cannot store a finished live run in %s: %s", p.parent, e)
        return False
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5) as fh:
            fh.write(json.dumps({name: [_record(s) for s in snaps] for name, snaps in history.items()}).encode())
        os.replace(tmp, p)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        _log.warning("cannot store a finished live run in %s: %s", p, e)
        return False
    return True


def load(configs: Mapping[str, Config], root: Path | None = None) -> dict[str, list[Snapshot]] | None:
    """The stored history of this set of runs, or None when there is none (or it cannot be read)."""
    p = path(configs, root)
    if not p.exists():
        return None
    try:
        with gzip.open(p, "rb") as fh:
            data = json.loads(fh.read())
        history = {name: [_snapshot(d) for d in data[name]] for name in configs}
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        p.unlink(missing_ok=True)
        return None
    return history
