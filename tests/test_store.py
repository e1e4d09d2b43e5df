"""The one store on disk (sharp.engine.store): miss then hit, a corrupt or foreign entry ignored with a log line and
recomputed, two writers at once, the key's ingredients, and a live page's compared runs."""
import multiprocessing as mp
import threading
from pathlib import Path

import pandas as pd
import pytest

import sharp
from sharp.engine import store
from sharp.engine.config import preset
from sharp.engine.sweep import tidy
from sharp.engine.train import train


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def small(**kw):
    return preset("feature", d=12, n=60, steps=3, seeds=2, n_test=100, **kw)


def compute(cfg):
    return tidy(cfg, list(train(cfg)))


def test_dir_follows_env(tmp_cache):
    assert store.cache_dir() == tmp_cache
    assert store.path(small()).is_relative_to(tmp_cache)


def test_miss_then_hit_returns_the_same_frame():
    calls = []
    counting = lambda c: calls.append(c) or compute(c)  # noqa: E731
    first, hit1 = store.cached(small(), counting)
    second, hit2 = store.cached(small(), counting)
    assert (hit1, hit2) == (False, True)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)


def test_key_depends_on_every_setting_and_the_version(monkeypatch):
    base = store.key(small())
    assert store.key(small()) == base
    assert store.key(small(eta=19.0)) != base
    assert store.key(small(seed=1)) != base
    monkeypatch.setattr(sharp, "__version__", "999")
    assert store.key(small()) != base


@pytest.mark.parametrize("garbage", [b"", b"not parquet at all", b"PAR1\x00\x00PAR1"])
def test_corrupt_entry_is_recomputed_not_a_crash(garbage):
    cfg = small()
    good, _ = store.cached(cfg, compute)
    store.path(cfg).write_bytes(garbage)
    assert store.load(cfg) is None
    assert not store.path(cfg).exists()  # deleted, so the next read is a clean miss
    again, hit = store.cached(cfg, compute)
    assert not hit
    pd.testing.assert_frame_equal(good, again)
    assert store.load(cfg) is not None


def test_truncated_entry_is_recomputed():
    cfg = small()
    store.cached(cfg, compute)
    p = store.path(cfg)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    _, hit = store.cached(cfg, compute)
    assert not hit


def test_two_threads_writing_at_once_leave_a_valid_entry():
    cfg, frame = small(), compute(small())
    barrier, errors = threading.Barrier(2), []

    def write():
        try:
            barrier.wait()
            for _ in range(20):
                assert store.save(cfg, frame) is not None
        except Exception as e:  # noqa: BLE001 -- reported to the main thread below
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pd.testing.assert_frame_equal(store.load(cfg), frame)
    assert not list(store.path(cfg).parent.glob(".tmp-*"))  # no temporary files left behind


def _write_many(root: str, n: int) -> None:
    cfg = small()
    frame = compute(cfg)
    for _ in range(n):
        store.save(cfg, frame, root=Path(root))


def test_two_processes_writing_at_once_leave_a_valid_entry(tmp_cache):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_cache), 15)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    pd.testing.assert_frame_equal(store.load(small()), compute(small()))


def test_unwritable_cache_still_returns_the_run(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv(store.ENV, str(blocker))
    frame, hit = store.cached(small(), compute)
    assert not hit and len(frame) == 2 * 4


def test_an_edit_to_the_engine_changes_every_key(monkeypatch):
    from sharp.engine import store
    from sharp.engine.config import preset

    cfg = preset("feature", d=20, steps=3)
    before = store.key(cfg)
    monkeypatch.setattr(store, "engine_fingerprint", lambda: "an-edited-engine")
    assert store.key(cfg) != before


def test_the_key_digests_the_engine_not_the_pages():
    engine = Path(store.__file__).parent
    assert all((engine / name).is_file() for name in store.ENGINE_FILES)
    assert {"train.py", "nets.py", "data.py"} <= set(store.ENGINE_FILES)  # what computes a run ...
    assert not {"fig1.py", "paper.py", "bench.py"} & set(store.ENGINE_FILES)  # ... not the pages' tables


def test_a_corrupt_entry_is_ignored_with_a_log_line(caplog):
    cfg = small()
    store.cached(cfg, compute)
    store.path(cfg).write_bytes(b"garbage")
    with caplog.at_level("WARNING", logger="sharp.engine.store"):
        assert store.load(cfg) is None
    assert "ignoring an unreadable store entry" in caplog.text and str(store.path(cfg)) in caplog.text


def live_runs():
    cfgs = {"kernel": preset("kernel", d=10, n=40, m=16, steps=4, seeds=2, n_test=50),
            "feature": preset("feature", d=10, n=40, m=8, steps=4, seeds=2, n_test=50)}
    return cfgs, {name: list(train(c)) for name, c in cfgs.items()}


def test_a_live_history_round_trips_exactly():
    cfgs, history = live_runs()
    assert store.load_history(cfgs) is None
    assert store.save_history(cfgs, history)
    back = store.load_history(cfgs)
    for name in cfgs:
        assert [s.step for s in back[name]] == [s.step for s in history[name]]
        assert [s.test_error_seeds for s in back[name]] == [tuple(s.test_error_seeds) for s in history[name]]
        assert all((a.neuron_relevant == b.neuron_relevant).all() for a, b in zip(back[name], history[name]))
    other = {**cfgs, "feature": preset("feature", d=10, n=40, m=8, steps=4, seeds=2, n_test=50, eta=3.0)}
    assert store.load_history(other) is None  # another set of runs: another file


@pytest.mark.parametrize("content", [b"", b"\x1f\x8b garbage", "gz-json of another schema"])
def test_a_corrupt_or_foreign_live_history_is_ignored_with_a_log_line(content, caplog):
    import gzip
    import json

    cfgs, history = live_runs()
    store.save_history(cfgs, history)
    p = store.history_path(cfgs)
    p.write_bytes(gzip.compress(json.dumps({"runs": [1, 2]}).encode()) if isinstance(content, str) else content)
    with caplog.at_level("WARNING", logger="sharp.engine.store"):
        assert store.load_history(cfgs) is None
    assert "ignoring an unreadable store entry" in caplog.text and not p.exists()


def test_an_unwritable_store_logs_and_goes_on(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(store.ENV, str(blocker))
    cfgs, history = live_runs()
    with caplog.at_level("WARNING", logger="sharp.engine.store"):
        assert not store.save_history(cfgs, history)
    assert "cannot write" in caplog.text
