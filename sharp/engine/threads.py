"""The engine's share of the machine: a bounded torch thread count, so that several visitors (and several
runs) share a small server fairly instead of each one asking for every core.

Importing this module (sharp/__init__ does, before anything imports torch) also caps how long idle OpenMP
threads spin before they sleep (GOMP_SPINCOUNT=10000, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is already
set). With libgomp's default long spin, on a busy small machine the spinning threads take the cores the
working ones need, and the same work takes several times as long; sleeping at once (OMP_WAIT_POLICY=PASSIVE)
avoids that but slows the small per-step operations on a quiet machine; a short spin does well in both cases.
The variables are read when torch loads its OpenMP runtime, so they have no effect if torch was imported first.

It also keeps glibc's heap from being handed back to the kernel after every large free (`keep_heap`): a
logged step allocates a few MB of temporaries and frees them, and with glibc's defaults the heap top is
trimmed and re-faulted each time, so that page faults and system time would outweigh the training itself.
"""
from __future__ import annotations

import ctypes
import os
import sys

from sharp.settings import env, var

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
HEAP_KEEP_MB = 256  # freed heap kept for reuse, at most
MMAP_FROM_MB = 32  # blocks this large or larger are mapped (and unmapped on free) one by one


def keep_heap() -> bool:
    """Stop glibc from returning freed heap to the kernel after each large free; True where it applied.

    glibc maps each block above a dynamic threshold on its own and trims the top of the heap when more than
    a dynamic amount is free, so a loop that allocates and frees a few MB per step pays page faults (kernel
    time) for every page of every step. Fixed thresholds turn that off: blocks under MMAP_FROM_MB come from
    the heap, and up to HEAP_KEEP_MB of freed heap is kept for the next step. The process's resident size
    then stays near its high-water mark instead of dropping between steps. A no-op off glibc (macOS,
    musl) or when $MALLOC_TRIM_THRESHOLD_ is set (the user's own choice stands).

    Example:
        >>> keep_heap()  # on Linux with glibc
        True
    """
    if not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, HEAP_KEEP_MB << 20)
                    and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_FROM_MB << 20))
    except (OSError, AttributeError):
        return False


keep_heap()

ENV = var("threads")


def engine_threads(n: int | None = None) -> int:
    """Bound torch's intra-op threads (default: $SHARP_THREADS, `sharp.settings.Env.threads`) and return the count
    now in force.

    Call it once at the start of a process (the CLI, the app); calling it again is cheap and idempotent.

    Args:
        n: an explicit count; None reads $SHARP_THREADS.
    Returns:
        The number of threads torch now uses.
    Example:
        >>> engine_threads(1)
        1
    """
    import torch  # here, not at the top: the OpenMP setting above must come first

    n = env().threads if n is None else max(1, int(n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return torch.get_num_threads()
