"""Sweeps beyond one machine: the same grid as `sharp.engine.sweep.sweep`, one Dask task per configuration.

Each task trains one configuration (or reads it from the worker's disk cache) and returns its tidy frame;
the client stacks the frames in grid order and stores each one in its own cache too, so the pages find
the results afterwards. Seeds are still batched inside each task: Dask spreads configurations, not seeds.

    python -m sharp sweep --regime kernel --d 25,50,100,200 --n 600,2400 --scheduler tcp://head:8786 --out x.parquet
    python -m sharp sweep --regime kernel --d 25,50 --n 150,300 --scheduler local:4 --out x.csv   # 4 local workers

A real cluster must run this same engine: `connect` asks the scheduler and every worker for the package
version, the engine's source digest and the torch version, and refuses (`ClusterError`, one line naming
the fix) a cluster where one cannot import sharp or differs. A worker that vanishes during that check is gone,
not wrong: it is skipped with a log line. A worker that joins later is checked by each task before it computes
(the task carries this client's digest): a mismatch ends the sweep with the same one-line refusal, not retried.
A task whose worker dies is run again elsewhere (Dask's retries), so a sweep survives losing workers as long
as one remains or joins.

The app's paper pages use the scheduler named by $SHARP_SCHEDULER (sharp.serve.placement), else they run here.
"""
from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import pandas as pd

from sharp.engine import store as disk
from sharp.engine.config import Config, ConfigError
from sharp.engine.param import Int
from sharp.engine.sweep import Cancelled, Progress, TooBig, plan, seconds, tidy
from sharp.engine.train import train

GONE_S = 5.0  # how long a worker whose probe failed has to leave the scheduler's list to count as gone
RETRIES = 3  # reruns of a task that raised (a lost worker's tasks are rescheduled by the scheduler itself)
FIX = ("install this project in the same environment everywhere (`pip install .` from one checkout, or the "
       "sharp image) and restart the scheduler and workers")
_log = logging.getLogger(__name__)


class ClusterError(Exception):
    """A scheduler that cannot be used (unreachable, no workers, or not running this engine): one line."""


def _task(cfg: Config, use_cache: bool) -> pd.DataFrame:
    """Runs on a worker: the configuration's tidy frame, through the worker's own cache."""
    from sharp.engine.threads import engine_threads

    engine_threads(1)  # one thread per task: a worker runs as many tasks as it has threads
    frame, _ = disk.cached(cfg, lambda c: tidy(c, list(train(c))), use=use_cache)
    return frame


def _make_probe() -> Callable[[], dict]:
    def probe() -> dict:
        # Defined inside a function, so cloudpickle sends it by value: it runs even where sharp is missing
        # and then says so instead of failing to unpickle.
        import importlib.metadata

        try:
            import sharp
            from sharp.engine.store import engine_fingerprint
        except Exception as e:  # any import failure is the answer here
            return {"error": f"{type(e).__name__}: {e}"}
        return {"sharp": sharp.__version__, "engine": engine_fingerprint(),
                "torch": importlib.metadata.version("torch")}

    return probe


probe = _make_probe()  # {"sharp": version, "engine": source digest, "torch": version} or {"error": ...}


def _make_guarded(check: Callable[[], dict]) -> Callable[..., object]:
    def guarded(expected: dict, cfg: Config, use_cache: bool):
        # Sent by value like the probe, so it runs whatever sharp the worker has (a worker that joined after
        # the check may have another, or none): compare first, and return (not raise: Dask would retry it) the
        # worker's answer instead of computing with an engine this client did not check.
        found = check()
        if found != expected:
            from distributed import get_worker

            return {"refused": get_worker().address, "found": found}
        from sharp.distributed import _task  # the worker's own copy, now known to match

        return _task(cfg, use_cache)

    return guarded


guarded_task = _make_guarded(probe)  # guarded_task(probe(), cfg, use_cache): _task's frame, or {"refused": ...}


def _describe(fp: dict) -> str:
    return f"sharp {fp['sharp']}, engine {fp['engine']}, torch {fp['torch']}"


def check_fingerprints(mine: dict, theirs: dict[str, object]) -> None:
    """Raise ClusterError (one line naming the fix) unless every process in theirs runs what mine describes.

    Args:
        mine: this process's `probe()`.
        theirs: {"scheduler" or "worker tcp://...": probe() result, or the exception that prevented it}.
    Example:
        >>> check_fingerprints(probe(), {"worker tcp://a:1": probe()})  # same engine: no error
    """
    for who, fp in theirs.items():
        if isinstance(fp, BaseException) or not isinstance(fp, dict):
            raise ClusterError(f"the Dask {who} could not report its sharp version ({type(fp).__name__}: {fp}): {FIX}")
        if "error" in fp:
            raise ClusterError(f"the Dask {who} cannot import sharp ({fp['error']}): {FIX}")
        if fp != mine:
            raise ClusterError(f"the Dask {who} runs {_describe(fp)}, this client {_describe(mine)}: {FIX}")


def check_cluster(client, gone_s: float = GONE_S) -> None:
    """Ask the scheduler and every worker which engine they run; raise ClusterError if any differs.

    A worker whose probe failed and that the scheduler no longer lists within gone_s seconds died during the
    check: it is skipped with a log line (gone, not wrong; a worker that joins later is checked by its tasks).
    One still listed is refused like one that answered wrongly.
    """
    theirs: dict[str, object] = {}
    try:
        theirs["scheduler"] = client.run_on_scheduler(probe)
    except Exception as e:  # the scheduler could not even run the probe: report it, whatever it was
        theirs["scheduler"] = e
    for addr, fp in client.run(probe, on_error="return").items():
        if isinstance(fp, BaseException) and _left(client, addr, gone_s):
            _log.warning("the Dask worker %s left during the engine check (%s): skipped", addr, type(fp).__name__)
            continue
        theirs[f"worker {addr}"] = fp
    check_fingerprints(probe(), theirs)


def _left(client, addr: str, within: float) -> bool:
    """Whether the scheduler stops listing the worker at addr within `within` seconds (polled)."""
    deadline = time.monotonic() + within
    while addr in client.nthreads():  # asks the scheduler each time
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def reachable(address: str, timeout: float = 1.0) -> bool:
    """Whether a TCP connection to the scheduler's host and port opens within timeout seconds."""
    parts = urlsplit(address)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 8786), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def connect(address: str, timeout: float = 20.0, wait_workers: float = 10.0):
    """A dask.distributed.Client on the scheduler at address, checked to run this engine everywhere.

    Args:
        address: tcp://host:port.
        timeout: seconds to reach the scheduler.
        wait_workers: seconds to wait for a first worker (a cluster with none would never finish).
    Raises:
        ClusterError: unreachable, no worker, or a process without this engine (one line naming the fix).
    Example:
        >>> client = connect("tcp://127.0.0.1:8786")
    """
    from dask.distributed import Client

    if urlsplit(address).scheme in ("tcp", "tls") and not reachable(address, min(timeout, 5.0)):
        # fail at once: the client would retry a refused connection for the whole timeout
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: nothing answers there "
                           f"(start one with `dask scheduler`)")
    try:
        client = Client(address, timeout=f"{timeout}s")
    except OSError as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({e})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=wait_workers)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {address} has no workers after {wait_workers:g} s: start "
                               f"some with `dask worker {address} --nthreads 1`") from None
        check_cluster(client)
    except BaseException:
        client.close()
        raise
    return client


def sweep_dask(configs: Sequence[Config], client=None, *, progress: Callable[[str], None] | None = None,
               on_progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
               use_cache: bool = True, max_seconds: float | None = None) -> pd.DataFrame:
    """Train a grid on a Dask cluster and return the same tidy frame as `sharp.engine.sweep.sweep`.

    Args:
        configs: the grid.
        client: a dask.distributed.Client (the caller owns it).
        progress: called with a one-line message as each run finishes (in completion order).
        on_progress: called as (done, total, message) as each run finishes, in estimated seconds of work.
        cancel: polled as each run finishes; True cancels the rest and raises `Cancelled` (finished runs kept).
        use_cache: read and write this process's disk cache, and the workers'.
        max_seconds: refuse (TooBig) a grid whose estimated compute, divided over the cluster's threads,
            exceeds this; None = no cap.
    Returns:
        The tidy DataFrame of all runs, in grid order, with the column `run`.
    Raises:
        ClusterError: the scheduler went away, or a worker that joined after the check runs another engine
            (the one-line refusal of `check_fingerprints`; the rest of the grid is cancelled).
    Example:
        >>> with Client(LocalCluster(n_workers=2)) as client: df = sweep_dask(grid(...), client)
    """
    from dask.distributed import as_completed

    configs = list(configs)
    if not configs:
        raise ConfigError("grid", "empty", "at least one configuration")
    p = plan(configs, use_cache)
    threads = max(1, sum(client.nthreads().values()))
    if max_seconds is not None and p.seconds / threads > max_seconds:
        raise TooBig(f"this grid needs about {p.seconds / threads:.0f} s per worker thread on {threads} threads, "
                     f"above the {max_seconds:.0f} s cap: narrow it or add workers")
    frames: list[pd.DataFrame | None] = [disk.load(c) if use_cache else None for c in configs]
    todo = [i for i, f in enumerate(frames) if f is None]
    cost = [seconds(c) for c in configs]
    total, done = float(sum(cost)), float(sum(cost)) - sum(cost[i] for i in todo)
    mine = probe()  # each task compares it with its worker's before computing
    futures = client.map(guarded_task, [mine] * len(todo), [configs[i] for i in todo], use_cache=use_cache,
                         pure=False, retries=RETRIES)
    index = {f.key: i for i, f in zip(todo, futures)}
    finished = False
    try:
        for count, (future, frame) in enumerate(as_completed(futures, with_results=True), start=1):
            if isinstance(frame, dict) and "refused" in frame:  # a worker that joined after the check
                check_fingerprints(mine, {f"worker {frame['refused']}": frame["found"]})
            if not isinstance(frame, pd.DataFrame):  # a cancelled task's exception: the scheduler went away
                raise ClusterError(f"lost the connection to the Dask scheduler mid-sweep ({type(frame).__name__}): "
                                   f"start it again and rerun the sweep (finished runs are in the cache)")
            i = index[future.key]
            if use_cache:
                disk.save(configs[i], frame)
            frames[i] = frame
            c, done = configs[i], done + cost[i]
            label = f"[{count}/{len(todo)}] d={c.d} n={c.n} m={c.m} depth={c.depth} done"
            if progress:
                progress(label)
            if on_progress:
                on_progress(done, total, f"{label} (on Dask)")
            if cancel and cancel() and count < len(todo):
                raise Cancelled(_stack(frames))
        finished = True
    finally:
        if not finished:  # cancelled, or the caller's callback raised: free the cluster for others
            client.cancel(futures)
    return _stack(frames)


def _stack(frames: list[pd.DataFrame | None]) -> pd.DataFrame:
    done = [f.assign(run=i) for i, f in enumerate(frames) if f is not None]
    return pd.concat(done, ignore_index=True) if done else pd.DataFrame()


def parse_scheduler(text: str) -> tuple[str | None, int]:
    """'local:N' -> (None, N) for N local worker processes; anything else is a scheduler address.

    Example:
        >>> parse_scheduler("local:4"), parse_scheduler("tcp://head:8786")
        ((None, 4), ('tcp://head:8786', 0))
    """
    if text.startswith("local:"):
        try:  # N as every setting's number is read (sharp.engine.param): "1_0" or "inf" are not a count
            n = Int(1, 256).parse(text.removeprefix("local:"))
        except ValueError:
            raise ConfigError("scheduler", text,
                              "local:N with N from 1 to 256 workers, or a scheduler address") from None
        return None, n
    if "://" not in text:
        raise ConfigError("scheduler", text, "local:N, or a scheduler address such as tcp://host:8786")
    return text, 0
