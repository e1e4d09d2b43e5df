"""One live run shared by every visitor with the same settings, and each visitor's view of it.

`LiveRun` owns the lockstep generator of the compared runs (`sharp.experiments.race.build_configs`) and the
snapshots so far; the server's pool advances it (it is a job of `sharp.serve.pool`), and every visitor
with the same settings watches the same one. A visitor's `Watch` says how far they have seen and whether they
play, and `Watch.look` gives the `Frame` they see.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import sharp
from sharp.engine import store
from sharp.engine.config import Config
from sharp.experiments.race import Settings, build_configs, to_query


@dataclass(eq=False)
class LiveRun:
    """The compared runs of one setting: the lockstep stream and the snapshots so far.

    One LiveRun serves every visitor with the same settings (see `sharp.serve.pool`): one worker thread at a time
    advances it, and any thread may read it. `count` is the number of logged steps taken, raised only after
    every run's snapshot of the step is in, so a reader takes `history[name][:count]` and never sees half a row.
    """

    settings: Settings
    configs: dict[str, Config]
    stream: Iterator[dict[str, sharp.Snapshot]] = field(repr=False)
    history: dict[str, list[sharp.Snapshot]] = field(default_factory=dict, repr=False)
    done: bool = False
    count: int = 0  # logged steps taken; every run's snapshots up to here are in history
    stored: bool = True  # read from and written to the disk store of finished runs
    _bytes: int = field(default=0, repr=False)
    _last: dict[str, sharp.Snapshot] = field(default_factory=dict, repr=False)  # the stream's latest, per run

    @classmethod
    def start(cls, s: Settings, stored: bool = True) -> LiveRun:
        """The finished runs from disk if these settings ran before (`sharp.engine.store`), else an unstarted stream.

        Example: LiveRun.start(DEFAULTS).advance(max_snaps=1)
        """
        cfgs = build_configs(s)
        if stored and (history := store.load_history(cfgs)) is not None:
            run = cls(s, cfgs, iter(()), history, done=True, count=max(map(len, history.values())), stored=True)
            run._bytes = sum(snapshot_bytes(x) for snaps in history.values() for x in snaps)
            return run
        return cls(s, cfgs, sharp.lockstep(cfgs), {name: [] for name in cfgs}, stored=stored)

    def advance(self, budget_s: float = 0.15, max_snaps: int | None = None) -> int:
        """Pull snapshots until the time budget is spent, max_snaps were taken, or the runs end.

        Returns:
            The number of logged steps taken.
        """
        t0, taken = time.perf_counter(), 0
        while not self.done and (max_snaps is None or taken < max_snaps):
            latest = next(self.stream, None)
            if latest is None:
                self.done = True
                break
            for name, snap in latest.items():
                if self._last.get(name) is not snap:  # a diverged run repeats its last snapshot
                    self._last[name] = snap
                    kept = compact(snap)
                    self.history[name].append(kept)
                    self._bytes += snapshot_bytes(kept)
            self.count += 1  # after every run's row is in: readers never see half a row
            taken += 1
            if all(s.final for s in latest.values()):
                self.done = True
            if time.perf_counter() - t0 > budget_s:
                break
        if self.done:
            self.close()
            if self.stored and taken:  # kept on disk for the next visitor, after a restart or an eviction
                store.save_history(self.configs, self.history)
        return taken

    def latest(self, name: str) -> sharp.Snapshot | None:
        return self.history[name][-1] if self.history.get(name) else None

    def nbytes(self) -> int:
        """Memory held by the snapshots (the pool's byte budget counts it)."""
        return self._bytes

    def close(self) -> None:
        """Let the stream go (it holds the data and the weights); the history stays."""
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()
        self.stream = iter(())


def compact(snap: sharp.Snapshot) -> sharp.Snapshot:
    """The snapshot with its per-neuron energies as float32 arrays: 4 bytes a neuron instead of a Python float's
    32, so the server keeps many more finished runs in the same memory."""
    return dataclasses.replace(snap, neuron_relevant=np.asarray(snap.neuron_relevant, np.float32),
                               neuron_rest=np.asarray(snap.neuron_rest, np.float32))


def snapshot_bytes(snap: sharp.Snapshot) -> int:
    """About how many bytes a snapshot holds: a CPython float in a tuple costs 32 bytes (8 + 24), arrays their data."""
    size = 200
    for v in snap.__dict__.values():
        if isinstance(v, np.ndarray):
            size += 112 + v.nbytes
        elif isinstance(v, tuple):
            size += 56 + 32 * sum(len(t) if isinstance(t, tuple) else 1 for t in v)
        else:
            size += 32
    return size


@dataclass(frozen=True)
class Frame:
    """What one visitor sees of a shared run: its first `shown` logged steps, and whether it is streaming.

    The drawing functions take a Frame (or a LiveRun: both have settings, configs, history and latest()).
    """

    settings: Settings
    configs: dict[str, Config]
    history: dict[str, list[sharp.Snapshot]]
    running: bool  # this visitor is playing and the run has more to show
    done: bool  # the run has finished and everything is shown

    @classmethod
    def of(cls, run: LiveRun, shown: int, playing: bool) -> Frame:
        count = run.count
        shown = max(0, min(shown, count))
        done = run.done and shown >= count
        # Row i of every run is its snapshot i (a diverged run stops adding rows, so it simply has fewer).
        hist = {name: snaps[:shown] for name, snaps in run.history.items()}
        return cls(run.settings, run.configs, hist, playing and not done, done)

    def latest(self, name: str) -> sharp.Snapshot | None:
        return self.history[name][-1] if self.history.get(name) else None


REPLAY_S = 8.0  # a replay of a finished run shows its whole history in about this long


@dataclass
class Watch:
    """One visitor's view of a shared run: how far they have seen, and whether they are playing.

    Pausing is this visitor's alone: their position freezes while the shared run goes on for the others;
    Play jumps back to wherever the run is. A replay walks through a finished run's history again without
    training anything.
    """

    key: Settings  # the run part of the settings watched
    shown: int = 0  # logged steps on this visitor's screen
    playing: bool = True
    replaying: bool = False
    step_to: int | None = None  # Step asked for this many logged steps; shown once the run has them

    def look(self, run: LiveRun, ticks_per_s: float = 8.0) -> Frame:
        """Move this visitor's position along the run (at each redraw) and return what they see."""
        count = run.count
        if self.step_to is not None:
            self.shown = min(self.step_to, count)
            if count >= self.step_to or run.done:
                self.step_to = None
        elif self.replaying:
            stride = max(1, math.ceil(count / (REPLAY_S * ticks_per_s)))
            self.shown = min(count, self.shown + stride)
            if self.shown >= count and run.done:
                self.replaying = False
        elif self.playing:
            self.shown = count
        return Frame.of(run, self.shown, self.playing)

    def catch_up(self, run: LiveRun, shown: int | None) -> None:
        """Take the position the visitor's browser reports having drawn (None: keep this one), and end a step
        or a replay it has reached. The browser streams on its own, so the server's position lags it."""
        if shown is not None:
            self.shown = max(0, min(shown, run.count))
        if self.step_to is not None and (self.shown >= self.step_to or run.done):
            self.step_to = None
        if self.replaying and run.done and self.shown >= run.count:
            self.replaying = False

    def toggle(self, run: LiveRun) -> None:
        """Play/Pause/Replay: pause a playing view, resume a paused one, replay a finished one from the start."""
        if run.done and self.shown >= run.count and not self.replaying:
            self.shown, self.playing, self.replaying = 1, True, True
        else:
            self.playing, self.replaying = not self.playing, False

    def step(self, run: LiveRun) -> None:
        """Show one more logged step, then stay paused (the run computes it if nobody has yet)."""
        self.playing = self.replaying = False
        if not (run.done and self.shown >= run.count):
            self.step_to = self.shown + 1


def wait_first(entry: Any, timeout: float) -> bool:
    """Wait (at most timeout seconds) until a shared run has its first points or has ended; True if it has points.

    A new run's first slice jumps the workers' queue (sharp.serve.pool), so this is short unless the server is
    saturated, in which case the page says how many runs are ahead.
    """
    entry.wait(timeout, until=lambda: entry.job.count > 0)
    return entry.job.count > 0


def config_json(run: LiveRun) -> str:
    """The page settings, the URL query and each run's full Config as JSON text."""
    return json.dumps({"settings": dataclasses.asdict(run.settings), "query": to_query(run.settings),
                       "runs": {name: c.to_dict() for name, c in run.configs.items()}}, indent=2)


def summary(run: LiveRun) -> dict[str, dict[str, float]]:
    """Latest step, mean test error and distance per run (what the big metrics show)."""
    return {name: dict(step=s.step, test_error=s.test_error, distance=s.distance, diverged=s.diverged)
            for name in run.history if (s := run.latest(name)) is not None}
