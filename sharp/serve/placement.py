"""Where the app's sweeps run: on the Dask cluster that $SHARP_SCHEDULER names, else on this machine.

`from_env` is asked by a paper page before each sweep: it connects once per scheduler address (checked to run
this engine, like the CLI's `sharp.distributed.connect`) and keeps the client for the server's later sessions. A
sweep placed on the cluster falls back to this machine, keeping what finished, when the cluster goes away.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from sharp.distributed import ClusterError, check_cluster, connect, parse_scheduler, sweep_dask
from sharp.engine.config import Config, ConfigError
from sharp.settings import env, var

ENV = var("scheduler")  # the app's paper pages run on this scheduler when set (tcp://host:8786)


@dataclass(frozen=True)
class Placement:
    """Where the app's sweeps run, and the line the page shows about it."""

    runner: Callable[..., pd.DataFrame] | None  # for `sharp.engine.sweep.runs_on`; None = on this machine
    message: str


_clients: dict[str, object] = {}  # one checked Client per scheduler address, shared by the server's sessions
_lock = threading.Lock()


def _shared_client(address: str, timeout: float):
    with _lock:
        client = _clients.get(address)
        if client is not None and client.status == "running":
            check_cluster(client)  # a worker that joined since may run another engine
            return client
        if client is not None:
            client.close()
            del _clients[address]
        _clients[address] = client = connect(address, timeout=timeout, wait_workers=timeout)
        return client


def from_env(environ: dict[str, str] | None = None, timeout: float = 2.0) -> Placement | None:
    """The app's choice: None when $SHARP_SCHEDULER is unset, else the cluster or, if unusable, this machine.

    The scheduler is probed with a short timeout, so an unreachable one costs a page about timeout seconds,
    and checked like the CLI's (`connect`); the Client is kept for the server's later sessions.

    Example:
        >>> from_env({"SHARP_SCHEDULER": "tcp://127.0.0.1:9"}).message
        'Dask scheduler tcp://127.0.0.1:9 (from $SHARP_SCHEDULER) unreachable or unusable, running here: ...'
    """
    address = env(environ).scheduler
    if not address:
        return None
    try:
        if parse_scheduler(address)[0] is None:
            raise ClusterError(f"${ENV} must name a scheduler such as tcp://host:8786, got {address!r}")
        client = _shared_client(address, timeout)
        nthreads = client.nthreads()
    except (ClusterError, ConfigError, OSError) as e:
        return Placement(None, f"Dask scheduler {address} (from ${ENV}) unreachable or unusable, running here: {e}")
    return Placement(functools.partial(_on_cluster, client, address),
                     f"Runs on the Dask cluster at {address} ({_count(len(nthreads), 'worker')}, "
                     f"{_count(sum(nthreads.values()), 'thread')}).")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _on_cluster(client, address: str, configs: Sequence[Config], **kw) -> pd.DataFrame:
    """sweep_dask, and the rest of the grid here if the scheduler goes away or a worker that joined since the
    check is refused (finished runs are in the cache); the progress line says which."""
    import asyncio

    from sharp.engine.sweep import sweep

    try:
        return sweep_dask(configs, client, **kw)
    except (ClusterError, OSError, TimeoutError, asyncio.CancelledError) as e:
        on_progress = kw.get("on_progress")
        if on_progress:
            why = str(e) if isinstance(e, ClusterError) else f"lost the Dask scheduler ({type(e).__name__})"
            on_progress(0.0, 1.0, f"Dask cluster at {address}: {why}; continuing here")
        with _lock:
            if _clients.get(address) is client:
                del _clients[address]
        try:
            client.close(timeout=2)  # else it keeps trying to reconnect, and logging so
        except Exception:  # closing a client whose scheduler is gone may fail in several ways; it is gone anyway
            pass
        return sweep(configs, **kw)
