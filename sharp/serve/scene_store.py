"""The kiosk's finished runs: every scene computed once per server, in the background, and kept.

`SceneStore.warm` submits the missing scenes, in loop order, as background work of the server's one pool
(the slices no visitor wants, at the workers' lowered priority); the page draws the scenes that are ready, each
frame drawn once and then served from a small LRU. Plain thread-safe Python: the page holds one per server.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from sharp.experiments import scenes
from sharp.experiments.scenes import FRAMES, SCENES, Scene, SceneData
from sharp.serve.entry import Entry
from sharp.serve.jobs import FunctionJob
from sharp.serve.pool import Pool, shared


class SceneStore:
    """Every scene's finished runs, computed once per server and kept, with an LRU of drawn frames."""

    def __init__(self, compute: Callable[..., SceneData] | None = None, max_frames: int = 4 * (FRAMES + 1),
                 pool: Pool | None = None):
        self._compute = compute  # (scene, on_progress=..., cancel=...) -> SceneData; None: scenes.scene_data
        self._pool = pool
        self._data: dict[str, SceneData] = {}
        self.errors: dict[str, str] = {}
        self._entries: dict[str, Entry] = {}
        self._frames: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._max_frames = max_frames
        self._lock = threading.Lock()

    def warm(self, which: Sequence[Scene] = SCENES) -> None:
        """Submit the scenes not yet ready or under way (once each; later calls return at once)."""
        pool = self._pool or shared()
        with self._lock:
            for scene in which:
                if scene.key not in self._entries:
                    self._entries[scene.key] = pool.submit(
                        ("kiosk", scene.key), lambda scene=scene: FunctionJob(
                            functools.partial(self._compute or scenes.scene_data, scene)), background=True)

    def _collect(self) -> None:
        """Keep the finished scenes' data (the pool may forget its jobs; the store keeps what it shows)."""
        with self._lock:
            for key, entry in list(self._entries.items()):
                if key in self._data or key in self.errors or not entry.finished:
                    continue
                if entry.state == "done":
                    self._data[key] = entry.job.result
                else:
                    error = entry.job.error
                    self.errors[key] = f"{type(error).__name__}: {error}" if error else entry.error or entry.state

    def join(self, timeout: float | None = None) -> None:
        """Wait for the submitted scenes (tests)."""
        for entry in list(self._entries.values()):
            entry.wait(timeout)
        self._collect()

    def ready(self) -> list[str]:
        """Keys of the scenes whose runs are done, in loop order."""
        self._collect()
        return [s.key for s in SCENES if s.key in self._data]

    def get(self, key: str) -> SceneData | None:
        return self._data.get(key)

    def frame(self, key: str, shown: int, draw: Callable[[SceneData, int], str]) -> str:
        """The scene's chart with `shown` items, drawn once by `draw(data, shown)` (the page's drawing, the same
        function every time) and then served from the LRU."""
        with self._lock:
            hit = self._frames.get((key, shown))
            if hit is not None:
                self._frames.move_to_end((key, shown))
                return hit
        svg = draw(self._data[key], shown)
        with self._lock:
            self._frames[(key, shown)] = svg
            while len(self._frames) > self._max_frames:
                self._frames.popitem(last=False)
        return svg

    def __len__(self) -> int:
        return len(self._frames)
