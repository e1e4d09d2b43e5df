"""sharp: kernel regime vs feature learning for two-layer and deep networks on sparse parity.

The public surface: configure a run, train it as a stream of snapshots, compare two regimes in lockstep.
"""
from sharp.config import PRESETS, Config, ConfigError, preset
from sharp.runtime import engine_threads  # before sharp.train: it tunes OpenMP before torch loads
from sharp.train import Snapshot, first_zero_step, lockstep, train

__version__ = "0.1.0"
__all__ = ["PRESETS", "Config", "ConfigError", "Snapshot", "engine_threads", "first_zero_step", "lockstep", "preset",
           "train", "__version__"]
