"""One frozen dataclass describes a run; presets name the two regimes; validation names the bad field.

Every field carries its help text and what it accepts (a `sharp.engine.param.Param`) in its metadata, so the
CLI flags and the pages' URL parameters are derived from here rather than written out a second time.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from sharp.engine.param import Bool, Choice, Float, Int, Param, not_allowed

ACTIVATIONS = ("quadratic", "relu", "softplus", "gelu")
SCALES = ("mf", "ntk")
INIT_VARS = ("1/d", "1")  # W0's first-layer variance: the reconstruction's 1/d, or 1 (sharp.experiments.claims)
DEVICES = ("auto", "cpu", "cuda")

# Memory guard: the training set of all seeds plus the largest activation tensor must fit in this many
# float32 entries (4 GiB) -- larger runs would swap a shared 24 GiB machine, so they are refused.
MAX_ENTRIES = 1 << 30


def _f(default: Any, help: str, param: Param | None = None) -> Any:
    """A dataclass field whose metadata carries the help text and what it accepts (a bool when no param)."""
    return field(default=default, metadata={"help": help, "param": param or Bool()})


@dataclass(frozen=True)
class Config:
    # --- the task ---
    k: int = _f(2, "parity order: y = x_1 * ... * x_k (k = 2 is XOR)", Int(1, 8))
    noise: float = _f(0.0, "probability of flipping each training label", Float(0.0, 0.49))
    d: int = _f(100, "input dimension (x uniform on {-1,+1}^d)", Int(2, 4096))
    # --- the sampling ---
    n: int = _f(600, "training-set size; with --online, the size of each fresh batch", Int(1, 1_000_000))
    online: bool = _f(False, "draw a fresh batch every step instead of reusing a fixed set of n")
    batch: int = _f(0, "mini-batch size drawn from the fixed set (0 = full batch, n)", Int(0, 1_000_000))
    shared: bool = _f(False, "with --online, every seed gets the same fresh batch (the seeds then differ only in "
                      "their initial weights): one matmul for all seeds, not one per seed (2x faster at Fig 1's sizes)")
    n_test: int = _f(4000, "test-set size (the same test set for every seed and both regimes)", Int(10, 200_000))
    # --- the network ---
    m: int = _f(20, "width: neurons per hidden layer (even: half the output weights +1, half -1)",
                Int(2, 16384, even=True))
    depth: int = _f(1, "number of hidden layers L", Int(1, 6))
    activation: str = _f("quadratic", "hidden activation", Choice(ACTIVATIONS))
    scale: str = _f("mf", "output scale: mf = 1/m (mean field), ntk = 1/sqrt(m)", Choice(SCALES))
    linearized: bool = _f(False, "train the linearization of the network around W0 (exact kernel regime)")
    init_var: str = _f("1/d", "variance of W0's first-layer entries: 1/d (so <w_j, x> ~ N(0, 1): standard Gaussian "
                       "weights on unit-norm inputs) or 1 (standard Gaussian weights on the raw {-1,+1}^d inputs)",
                       Choice(INIT_VARS))
    # --- the optimizer ---
    eta: float = _f(20.0, "SGD step size", Float(1e-6, 1e6))
    steps: int = _f(300, "number of SGD steps", Int(0, 200_000))
    every: int = _f(1, "log a snapshot every this many steps", Int(1, 200_000))
    # --- the ensemble and the machine ---
    seeds: int = _f(4, "ensemble size R: independent seeds trained as one batched computation", Int(1, 128))
    seed: int = _f(0, "base seed: seed r of the ensemble uses data and weights of (seed, r)", Int(0, 2**31 - 1))
    device: str = _f("auto", "torch device (auto = CUDA when present)", Choice(DEVICES))

    def __post_init__(self) -> None:
        validate(self)

    @property
    def batch_size(self) -> int:
        """Samples per SGD step for each seed."""
        return self.n if (self.online or self.batch == 0) else self.batch

    @property
    def c(self) -> float:
        """Output scale: 1/m in the mean-field parametrization, 1/sqrt(m) in the NTK one."""
        return 1.0 / self.m if self.scale == "mf" else 1.0 / math.sqrt(self.m)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ConfigError(ValueError):
    """A setting outside its allowed range; the message names the field, the value and the range."""

    def __init__(self, name: str, value: Any, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(not_allowed(name, repr(value), allowed))


def fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Config)


def param(name: str) -> Param:
    """What the field `name` accepts. Example: param("d").describe() -> 'an integer from 2 to 4096'"""
    by_name = {f.name: f for f in fields()}
    if name not in by_name:
        raise ConfigError(name, name, "not a setting of a run")
    return by_name[name].metadata["param"]


def field_type(f: dataclasses.Field) -> type:
    """The Python type of a field's value. Example: field_type(fields()[0]) -> int"""
    return f.metadata["param"].kind


def allowed_range(f: dataclasses.Field) -> str:
    """What a field accepts, in words. Example: allowed_range(fields()[0]) -> 'an integer from 1 to 8'"""
    return f.metadata["param"].describe()


def validate(cfg: Config) -> None:
    """Raise ConfigError for the first field that is impossible or unsafe."""
    for f in fields():
        v = getattr(cfg, f.name)
        try:
            f.metadata["param"].check(v)
        except ValueError:
            raise ConfigError(f.name, v, allowed_range(f)) from None
    if cfg.k > cfg.d:
        raise ConfigError("k", cfg.k, f"at most d = {cfg.d}")
    if cfg.online and cfg.batch:  # it would be ignored: online, every step draws a fresh batch of n
        raise ConfigError("batch", cfg.batch, "0 with online, where each step draws a fresh batch of n samples "
                          "(set n to the batch size you want)")
    if cfg.shared and not cfg.online:
        raise ConfigError("shared", cfg.shared, "false without online (a fixed training set is each seed's own)")
    if not cfg.online and cfg.batch > cfg.n:
        raise ConfigError("batch", cfg.batch, f"0 (full batch) or at most n = {cfg.n}")
    if cfg.every > max(cfg.steps, 1):
        raise ConfigError("every", cfg.every, f"at most steps = {cfg.steps}" if cfg.steps else
                          "1 with steps = 0 (only the initial state is logged)")
    data = (1 if cfg.shared else cfg.seeds) * cfg.d * (cfg.batch_size if cfg.online else cfg.n) + cfg.n_test * cfg.d
    acts = cfg.seeds * max(cfg.batch_size, cfg.n_test) * cfg.m * cfg.depth
    params = cfg.seeds * cfg.m * (cfg.d + (cfg.depth - 1) * cfg.m)
    if max(data, acts, params * 4) > MAX_ENTRIES:
        raise ConfigError("seeds", cfg.seeds, "fewer seeds, or smaller d, n, m or depth: this run needs "
                          f"about {4 * max(data, acts, 4 * params) / 2**30:.1f} GiB, above the 4 GiB cap")


# The two regimes (docs/science.md, "The model"): feature learning is the mean-field scale c = 1/m with m = 20 and
# eta = m; the kernel regime the NTK scale c = 1/sqrt(m), wide, eta = 1. Any field overrides a preset.
PRESETS: dict[str, dict[str, Any]] = {
    "feature": dict(scale="mf", m=20, eta=20.0),
    "kernel": dict(scale="ntk", m=1024, eta=1.0),
}


def preset(name: str, **overrides: Any) -> Config:
    """A Config for a named regime with any field overridden.

    Args:
        name: "feature" (mean field, m = 20, eta = m) or "kernel" (NTK scale, m = 1024, eta = 1).
        **overrides: any Config field.
    Returns:
        The validated Config.
    Example:
        >>> preset("kernel", d=50, m=512).eta
        1.0
    """
    if name not in PRESETS:
        raise ConfigError("regime", name, "one of " + ", ".join(PRESETS))
    unknown = set(overrides) - {f.name for f in fields()}
    if unknown:
        raise ConfigError(sorted(unknown)[0], overrides[sorted(unknown)[0]], "not a setting of a run")
    return Config(**{**PRESETS[name], **overrides})


def parse_field(name: str, text: str) -> Any:
    """One setting from text (a form field, a flag) as its field accepts it (`param(name).parse`).

    Raises ConfigError naming the field and its allowed range when the text is not an allowed value or the
    field does not exist.
    Example:
        >>> parse_field("eta", "2.5")
        2.5
    """
    try:
        return param(name).parse(text)
    except ValueError:
        raise ConfigError(name, text, param(name).describe()) from None
