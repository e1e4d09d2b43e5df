import pandas as pd
import pytest
from dask.distributed import Client, LocalCluster

from sharp import ConfigError, preset
from sharp.cli import main
from sharp.distributed import parse_scheduler, sweep_dask
from sharp.sweep import grid, sweep


@pytest.fixture(scope="module")
def client():
    # threads in this process: starts in about a second and needs no worker processes
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


def test_dask_sweep_equals_the_local_sweep_in_grid_order(client, tmp_path, monkeypatch):
    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    configs = grid(preset("feature", steps=6, every=3, seeds=2, n_test=300), d=[12, 24], n=[40, 80])
    seen = []
    on_dask = sweep_dask(configs, client, progress=seen.append, use_cache=False)
    local = sweep(configs, use_cache=False)
    pd.testing.assert_frame_equal(on_dask, local)
    assert len(seen) == 4 and seen[-1].startswith("[4/4]")


def test_dask_sweep_fills_the_local_cache(client, tmp_path, monkeypatch):
    from sharp import cache

    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    cfg = preset("kernel", d=10, n=30, m=32, steps=4, every=2, seeds=2, n_test=200)
    sweep_dask([cfg], client)
    assert cache.load(cfg) is not None


def test_scheduler_text_is_checked():
    assert parse_scheduler("local:3") == (None, 3)
    assert parse_scheduler("tcp://10.0.0.1:8786") == ("tcp://10.0.0.1:8786", 0)
    for bad in ("local:0", "local:x", "head:8786"):
        with pytest.raises(ConfigError, match="scheduler"):
            parse_scheduler(bad)


def test_cli_sweep_rejects_a_bad_scheduler_in_one_line(capsys, tmp_path):
    assert main(["sweep", "--regime", "feature", "--d", "10", "--steps", "2", "--scheduler", "nowhere",
                 "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scheduler" in err


def test_cli_sweep_on_local_dask_workers_writes_the_grid(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "grid.csv"
    assert main(["sweep", "--regime", "feature", "--d", "10,20", "--n", "40", "--steps", "4", "--every", "2",
                 "--seeds", "2", "--n-test", "200", "--scheduler", "local:2", "--quiet", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert sorted(df.d.unique()) == [10, 20] and len(df) == 2 * 2 * 3
