"""sharp: kernel regime vs feature learning for two-layer and deep networks on sparse parity.

The public surface: configure a run, train it as a stream of snapshots, compare two regimes in lockstep.
"""
from sharp.engine.config import PRESETS, Config, ConfigError, preset
from sharp.engine.snapshot import Snapshot
from sharp.engine.threads import engine_threads  # before sharp.engine.train: it tunes OpenMP before torch loads
from sharp.engine.train import first_zero_step, lockstep, train

__version__ = "0.1.0"
__all__ = ["PRESETS", "Config", "ConfigError", "Snapshot", "engine_threads", "first_zero_step", "lockstep", "preset",
           "train", "__version__"]
