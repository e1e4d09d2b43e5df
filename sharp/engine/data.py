"""Seeded k-sparse parity data on the hypercube.

Seed r of an ensemble draws its training data from its own generator, seeded by (base seed, r) and
nothing else: two regimes with the same base seed see the same samples (a paired comparison), and seed r
sees the same data whatever the ensemble size. The test set depends on the base seed only. With
`Config.shared` (online batches only, Fig 1) all seeds instead see one stream of batches, drawn from a stream
of the base seed alone, and differ only in their initial weights.
The test set and fixed training sets take one generator draw per entry (`signs`); online batches, drawn
afresh at every step, take 64 entries per draw (`fast_signs`), which is what keeps Fig 1 fast.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from sharp.engine.config import Config

# Independent random streams per (base seed, ensemble member); _SHARED: the online batches all seeds share.
_TEST, _TRAIN, _INIT, _SHARED = 0, 1, 2, 3


def generator(base: int, r: int, stream: int) -> torch.Generator:
    """A CPU generator for one stream of one ensemble member, statistically independent of the others."""
    state = np.random.SeedSequence([base, r, stream]).generate_state(2, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))


def signs(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """Uniform {-1, +1} entries, float32, one generator draw per entry (test sets and fixed training sets)."""
    return torch.randint(0, 2, shape, generator=gen, dtype=torch.float32).mul_(2).sub_(1)


def sign_bits(gen: torch.Generator, n: int) -> torch.Tensor:
    """n random bits for n signs, packed 64 to a generator draw: (ceil(n / 64),) int64, all 64 bits random.

    Entry e is bit e of the little-endian stream (bit e % 32 of int32 word e // 32); a set bit is +1.
    Example: sign_bits(torch.Generator().manual_seed(0), 100).shape -> torch.Size([2])
    """
    return torch.empty((n + 63) // 64, dtype=torch.int64).random_(-2**63, None, generator=gen)


_SHIFTS = 31 - torch.arange(32, dtype=torch.int32)  # moves bit j of a word to the sign bit
_ONE = 0x3F800000  # float32 1.0; with the sign bit set, -1.0
_MINUS_ONE = _ONE - 2**31  # 0xBF800000 as int32


def unpack_signs(words: torch.Tensor, e0: int, e1: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """Entries e0..e1 of each packed bit stream as float32 +-1: (W,) or (R, W) int64 -> (e1 - e0,) or (R, e1 - e0).

    Three vectorized integer passes write the floats' bit patterns directly: bit j moved to the sign bit,
    masked, then XOR with the pattern of -1.0 (so a set bit gives +1.0). A table lookup per byte
    (index_select) ran at a third of the speed.

    Args:
        words: packed bits (`sign_bits`), one row per seed.
        e0, e1: the entry range; e0 must be a multiple of 32.
        out: optional float32 scratch of at least R * 32 * ceil((e1 - e0) / 32) elements (used from its start).
    Returns:
        A view into `out` (or a new tensor); rows are contiguous, the row stride is a multiple of 32.
    Example:
        >>> unpack_signs(sign_bits(torch.Generator().manual_seed(0), 64), 0, 64).abs().eq(1).all()
        tensor(True)
    """
    if e0 % 32:
        raise ValueError(f"e0={e0} must be a multiple of 32 (a whole int32 word)")
    w32 = words.view(torch.int32)
    flat = w32.dim() == 1
    w32 = w32[None] if flat else w32
    a, b = e0 // 32, -(-e1 // 32)
    r, n = w32.shape[0], (b - a) * 32
    buf = torch.empty(r * n) if out is None else out.view(-1)[: r * n]
    bits = buf.view(torch.int32).view(r, b - a, 32)
    torch.bitwise_left_shift(w32[:, a:b, None], _SHIFTS, out=bits)
    bits.bitwise_and_(-2**31).bitwise_xor_(_MINUS_ONE)
    x = buf.view(r, n)[:, : e1 - e0]
    return x[0] if flat else x


def fast_signs(gen: torch.Generator, shape: tuple[int, ...], out: torch.Tensor | None = None) -> torch.Tensor:
    """Uniform {-1, +1} entries, float32, 64 of them per generator draw (online batches).

    `signs` spends one Mersenne-Twister draw and several passes per entry; at Fig 1 sizes (10 seeds x 9600
    x 1600 entries per step) that alone took seconds. Here each draw gives 64 random bits (`sign_bits`),
    unpacked by `unpack_signs`. The stream differs from `signs`, so the two are not interchangeable.

    Args:
        gen: the seed's generator (advanced by ceil(numel / 64) draws).
        shape: the output shape.
        out: optional float32 CPU tensor of that shape to write into.
    Returns:
        The signs (`out` when given).
    Example:
        >>> fast_signs(torch.Generator().manual_seed(0), (2, 3)).abs().eq(1).all()
        tensor(True)
    """
    n = math.prod(shape)
    words = sign_bits(gen, n)
    if out is not None and n % 32 == 0 and out.is_contiguous() and out.dtype == torch.float32 and not out.is_cuda:
        unpack_signs(words, 0, n, out)  # written in place: no allocation
        return out
    x = unpack_signs(words, 0, n).view(shape)
    return x if out is None else out.copy_(x)


def parity(x: torch.Tensor, k: int) -> torch.Tensor:
    """Labels y = x_1 * ... * x_k over the last axis. Example: parity(tensor([[1., -1, 1]]), 2) -> [-1.]"""
    return x[..., :k].prod(-1)


def flip(y: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Flip each label independently with probability p (label noise on training data only)."""
    if p <= 0:
        return y
    return torch.where(torch.rand(y.shape, generator=gen) < p, -y, y)


@dataclass(frozen=True)
class Data:
    x_test: torch.Tensor  # (n_test, d), shared by all seeds
    y_test: torch.Tensor  # (n_test,)
    x_train: torch.Tensor | None  # (R, n, d) for a fixed training set, None for online batches
    y_train: torch.Tensor | None  # (R, n)


def make_data(cfg: Config, device: torch.device | str = "cpu") -> tuple[Data, list[torch.Generator]]:
    """The test set, the fixed training sets (if any), and each seed's training generator.

    Args:
        cfg: the run; uses d, k, n, n_test, noise, online, seeds, seed.
        device: where the tensors live.
    Returns:
        (Data, gens): gens[r] continues seed r's training stream (online batches, mini-batch indices).
    Example:
        >>> data, gens = make_data(Config(d=10, n=20, n_test=50, seeds=2))
        >>> data.x_train.shape
        torch.Size([2, 20, 10])
    """
    g = generator(cfg.seed, 0, _TEST)
    x_test = signs(g, (cfg.n_test, cfg.d))
    gens = [generator(cfg.seed, r, _TRAIN) for r in range(cfg.seeds)]
    x_train = y_train = None
    if not cfg.online:
        xs = [signs(gr, (cfg.n, cfg.d)) for gr in gens]
        ys = [flip(parity(x, cfg.k), cfg.noise, gr) for x, gr in zip(xs, gens)]
        x_train, y_train = torch.stack(xs).to(device), torch.stack(ys).to(device)
    return Data(x_test.to(device), parity(x_test, cfg.k).to(device), x_train, y_train), gens


def batches(cfg: Config, data: Data, gens: list[torch.Generator], device: torch.device | str = "cpu",
            reuse: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless per-step batches (x (R, B, d), y (R, B)): fresh samples online, else drawn from the set.

    With cfg.shared (online only) x is one (B, d) batch for every seed, drawn from a stream of the base seed
    alone, and y is its labels expanded to (R, B).

    Args:
        cfg, data, gens: from `make_data`.
        device: where the batches live.
        reuse: online mode writes every batch into one buffer, so a batch is overwritten by the next one
            (`train` uses it: a fresh R*B*d allocation per step costs page faults at Fig 1 sizes).
    Returns:
        An endless iterator of (x, y).
    Example:
        >>> x, y = next(batches(cfg, *make_data(cfg)))
    """
    b, buf = cfg.batch_size, None
    shared = generator(cfg.seed, 0, _SHARED) if cfg.shared else None
    while True:
        if shared is not None:
            # one batch for every seed, (B, d): the step then runs one (R m, d) @ (d, B) matmul for all seeds
            x = buf if buf is not None else torch.empty((b, cfg.d))
            buf = x if reuse else None
            fast_signs(shared, (b, cfg.d), out=x)
            y = flip(parity(x, cfg.k), cfg.noise, shared)
            yield x.to(device), y.expand(cfg.seeds, b).to(device)
        elif cfg.online:
            # seed r's samples go straight into row r: no per-seed tensors and no torch.stack copy
            x = buf if buf is not None else torch.empty((cfg.seeds, b, cfg.d))
            buf = x if reuse else None
            for g, xr in zip(gens, x):
                fast_signs(g, (b, cfg.d), out=xr)
            y = torch.stack([flip(parity(xr, cfg.k), cfg.noise, g) for xr, g in zip(x, gens)])
            yield x.to(device), y.to(device)
        elif b == cfg.n:
            yield data.x_train, data.y_train
        else:
            idx = torch.stack([torch.randperm(cfg.n, generator=g)[:b] for g in gens]).to(device)  # (R, B)
            x = torch.gather(data.x_train, 1, idx[..., None].expand(-1, -1, cfg.d))
            yield x, torch.gather(data.y_train, 1, idx)
