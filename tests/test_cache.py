"""The disk cache: miss then hit, a corrupt entry recomputed, two writers at once, the key's ingredients."""
import multiprocessing as mp
import threading
from pathlib import Path

import pandas as pd
import pytest

import sharp
from sharp.engine import store as cache
from sharp.engine.config import preset
from sharp.engine.sweep import tidy
from sharp.engine.train import train


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def small(**kw):
    return preset("feature", d=12, n=60, steps=3, seeds=2, n_test=100, **kw)


def compute(cfg):
    return tidy(cfg, list(train(cfg)))


def test_dir_follows_env(tmp_cache):
    assert cache.cache_dir() == tmp_cache
    assert cache.path(small()).is_relative_to(tmp_cache)


def test_miss_then_hit_returns_the_same_frame():
    calls = []
    counting = lambda c: calls.append(c) or compute(c)  # noqa: E731
    first, hit1 = cache.cached(small(), counting)
    second, hit2 = cache.cached(small(), counting)
    assert (hit1, hit2) == (False, True)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)


def test_key_depends_on_every_setting_and_the_version(monkeypatch):
    base = cache.key(small())
    assert cache.key(small()) == base
    assert cache.key(small(eta=19.0)) != base
    assert cache.key(small(seed=1)) != base
    monkeypatch.setattr(sharp, "__version__", "999")
    assert cache.key(small()) != base


@pytest.mark.parametrize("garbage", [b"", b"not parquet at all", b"PAR1\x00\x00PAR1"])
def test_corrupt_entry_is_recomputed_not_a_crash(garbage):
    cfg = small()
    good, _ = cache.cached(cfg, compute)
    cache.path(cfg).write_bytes(garbage)
    assert cache.load(cfg) is None
    assert not cache.path(cfg).exists()  # deleted, so the next read is a clean miss
    again, hit = cache.cached(cfg, compute)
    assert not hit
    pd.testing.assert_frame_equal(good, again)
    assert cache.load(cfg) is not None


def test_truncated_entry_is_recomputed():
    cfg = small()
    cache.cached(cfg, compute)
    p = cache.path(cfg)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    _, hit = cache.cached(cfg, compute)
    assert not hit


def test_two_threads_writing_at_once_leave_a_valid_entry():
    cfg, frame = small(), compute(small())
    barrier, errors = threading.Barrier(2), []

    def write():
        try:
            barrier.wait()
            for _ in range(20):
                assert cache.store(cfg, frame) is not None
        except Exception as e:  # noqa: BLE001 -- reported to the main thread below
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pd.testing.assert_frame_equal(cache.load(cfg), frame)
    assert not list(cache.path(cfg).parent.glob(".tmp-*"))  # no temporary files left behind


def _write_many(root: str, n: int) -> None:
    cfg = small()
    frame = compute(cfg)
    for _ in range(n):
        cache.store(cfg, frame, root=Path(root))


def test_two_processes_writing_at_once_leave_a_valid_entry(tmp_cache):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_cache), 15)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    pd.testing.assert_frame_equal(cache.load(small()), compute(small()))


def test_unwritable_cache_still_returns_the_run(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv(cache.ENV, str(blocker))
    frame, hit = cache.cached(small(), compute)
    assert not hit and len(frame) == 2 * 4


def test_clear_removes_entries():
    cache.cached(small(), compute)
    cache.cached(small(seed=3), compute)
    assert cache.clear() == 2
    assert cache.load(small()) is None


def test_an_edit_to_the_engine_changes_every_key(monkeypatch):
    from sharp.engine import store as cache
    from sharp.engine.config import preset

    cfg = preset("feature", d=20, steps=3)
    before = cache.key(cfg)
    monkeypatch.setattr(cache, "engine_fingerprint", lambda: "an-edited-engine")
    assert cache.key(cfg) != before
