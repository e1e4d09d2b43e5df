import pandas as pd
import pytest
from dask.distributed import Client, LocalCluster

from sharp import ConfigError, preset
from sharp.cli import main
from sharp.distributed import parse_scheduler, sweep_dask
from sharp.engine.sweep import grid, sweep


@pytest.fixture(scope="module")
def client():
    # threads in this process: starts in about a second and needs no worker processes
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


@pytest.mark.server
def test_dask_sweep_equals_the_local_sweep_in_grid_order(client, tmp_path, monkeypatch):
    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    configs = grid(preset("feature", steps=6, every=3, seeds=2, n_test=300), d=[12, 24], n=[40, 80])
    seen = []
    on_dask = sweep_dask(configs, client, progress=seen.append, use_cache=False)
    local = sweep(configs, use_cache=False)
    pd.testing.assert_frame_equal(on_dask, local)
    assert len(seen) == 4 and seen[-1].startswith("[4/4]")


@pytest.mark.server
def test_dask_sweep_fills_the_local_cache(client, tmp_path, monkeypatch):
    from sharp.engine import store as cache

    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    cfg = preset("kernel", d=10, n=30, m=32, steps=4, every=2, seeds=2, n_test=200)
    sweep_dask([cfg], client)
    assert cache.load(cfg) is not None


def test_scheduler_text_is_checked():
    assert parse_scheduler("local:3") == (None, 3)
    assert parse_scheduler("tcp://10.0.0.1:8786") == ("tcp://10.0.0.1:8786", 0)
    for bad in ("local:0", "local:x", "local:1_0", "local:inf", "local:2.5", "head:8786"):
        with pytest.raises(ConfigError, match="scheduler"):
            parse_scheduler(bad)


def test_cli_sweep_rejects_a_bad_scheduler_in_one_line(capsys, tmp_path):
    assert main(["sweep", "--regime", "feature", "--d", "10", "--steps", "2", "--scheduler", "nowhere",
                 "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scheduler" in err


@pytest.mark.server
def test_cli_sweep_on_local_dask_workers_writes_the_grid(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "grid.csv"
    assert main(["sweep", "--regime", "feature", "--d", "10,20", "--n", "40", "--steps", "4", "--every", "2",
                 "--seeds", "2", "--n-test", "200", "--scheduler", "local:2", "--quiet", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert sorted(df.d.unique()) == [10, 20] and len(df) == 2 * 2 * 3


# --- the engine check, the app's choice of scheduler, the fallback -----------------------------------------------

def test_fingerprints_that_differ_are_refused_in_one_line_naming_the_fix():
    from sharp.distributed import ClusterError, check_fingerprints, probe

    mine = probe()
    assert set(mine) == {"sharp", "engine", "torch"} and len(mine["engine"]) == 16
    check_fingerprints(mine, {"scheduler": dict(mine), "worker tcp://a:1": dict(mine)})  # the same: no error
    cases = [
        ({"worker tcp://a:1": {"error": "ModuleNotFoundError: No module named 'sharp'"}}, "cannot import sharp"),
        ({"scheduler": {**mine, "engine": "0" * 16}}, "the Dask scheduler runs sharp"),
        ({"worker tcp://b:2": {**mine, "sharp": "0.0.9"}}, "runs sharp 0.0.9"),
        ({"worker tcp://c:3": {**mine, "torch": "2.12.0"}}, "torch 2.12.0"),
        ({"worker tcp://d:4": ModuleNotFoundError("No module named 'sharp'")}, "could not report"),
    ]
    for theirs, needle in cases:
        with pytest.raises(ClusterError) as e:
            check_fingerprints(mine, theirs)
        msg = str(e.value)
        assert needle in msg and "\n" not in msg and "pip install ." in msg, msg


def test_the_probe_is_sent_by_value_so_a_process_without_sharp_can_answer(tmp_path):
    import pickle
    import subprocess
    import sys

    import cloudpickle

    from sharp.distributed import probe

    # Sent by reference, unpickling would import sharp.distributed and fail before the probe could answer.
    code = ("import pickle, sys; sys.modules['sharp'] = None; "
            "print(pickle.loads(sys.stdin.buffer.read())()['error'])")
    p = subprocess.run([sys.executable, "-c", code], input=cloudpickle.dumps(probe), cwd=tmp_path,
                       capture_output=True, timeout=120)
    assert p.returncode == 0 and b"sharp" in p.stdout, p.stderr
    assert pickle.loads(cloudpickle.dumps(probe))() == probe()


def test_the_app_runs_here_without_a_message_when_no_scheduler_is_named():
    from sharp.serve.placement import from_env

    assert from_env({}) is None and from_env({"SHARP_SCHEDULER": "  "}) is None


def test_an_unreachable_scheduler_falls_back_to_this_machine_with_a_message():
    import time

    from sharp.serve.placement import from_env
    from tests.browser_support import free_port

    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    place = from_env({"SHARP_SCHEDULER": address}, timeout=1.0)
    assert place.runner is None and address in place.message and "running here" in place.message
    assert time.monotonic() - t0 < 10  # generous: the probe's own timeout is 1 s
    bad = from_env({"SHARP_SCHEDULER": "head:8786"})
    assert bad.runner is None and "tcp://host:8786" in bad.message


@pytest.fixture
def tcp_cluster():
    from sharp.serve import placement

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=":0") as cluster:
        yield cluster.scheduler_address
    for client in placement._clients.values():  # the app's shared client, kept by from_env
        client.close()
    placement._clients.clear()


@pytest.mark.server
def test_page_sweeps_run_on_the_named_scheduler_and_equal_the_local_ones(tcp_cluster, tmp_path, monkeypatch):
    from sharp.engine.sweep import runs_on
    from sharp.serve.placement import from_env

    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    place = from_env({"SHARP_SCHEDULER": tcp_cluster})
    assert place.runner is not None and place.message.startswith(f"Runs on the Dask cluster at {tcp_cluster}")
    assert from_env({"SHARP_SCHEDULER": tcp_cluster}).runner.args[0] is place.runner.args[0]  # one shared client
    configs = grid(preset("feature", steps=6, every=3, seeds=2, n_test=300), d=[12, 24], n=[40])
    seen = []
    with runs_on(place.runner):
        on_dask = sweep(configs, on_progress=lambda done, total, msg: seen.append((done, total, msg)),
                        use_cache=False)
    assert seen and all("(on Dask)" in m for _, _, m in seen) and seen[-1][0] == pytest.approx(seen[-1][1])
    pd.testing.assert_frame_equal(on_dask, sweep(configs, use_cache=False), check_exact=True)


def test_a_lost_scheduler_mid_page_finishes_the_grid_here():
    from sharp.serve.placement import _on_cluster

    class Gone:  # a client whose scheduler has gone away
        def nthreads(self):
            raise OSError("Timed out trying to connect")

    configs = grid(preset("feature", steps=4, every=2, seeds=2, n_test=200), d=[10, 20])
    seen = []
    df = _on_cluster(Gone(), "tcp://head:8786", configs, progress=None, use_cache=False, max_seconds=None,
                     cancel=None, on_progress=lambda done, total, msg: seen.append(msg))
    assert seen[0] == "Dask cluster at tcp://head:8786: lost the Dask scheduler (OSError); continuing here"
    pd.testing.assert_frame_equal(df, sweep(configs, use_cache=False), check_exact=True)


def test_a_worker_refused_mid_page_is_named_and_the_grid_finishes_here(monkeypatch):
    from sharp import distributed
    from sharp.serve import placement

    refusal = "the Dask worker tcp://127.0.0.1:9 runs sharp 0.0, engine x, torch y, this client ...: install ..."

    def refused(configs, client, **kw):  # what sweep_dask raises when a late worker's task returns its digest
        raise distributed.ClusterError(refusal)

    class Client:
        def close(self, timeout=None):
            pass

    monkeypatch.setattr(placement, "sweep_dask", refused)
    configs = grid(preset("feature", steps=4, every=2, seeds=2, n_test=200), d=[10])
    seen = []
    df = placement._on_cluster(Client(), "tcp://head:8786", configs, progress=None, use_cache=False,
                               max_seconds=None, cancel=None, on_progress=lambda done, total, msg: seen.append(msg))
    assert seen[0] == f"Dask cluster at tcp://head:8786: {refusal}; continuing here"
    pd.testing.assert_frame_equal(df, sweep(configs, use_cache=False), check_exact=True)


@pytest.mark.server
def test_dask_sweep_reads_finished_runs_from_the_local_cache(client, tmp_path, monkeypatch):
    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    configs = grid(preset("feature", steps=4, every=2, seeds=2, n_test=200), d=[10, 20])
    first = sweep(configs[:1])  # computed here and stored
    seen = []
    df = sweep_dask(configs, client, progress=seen.append)
    assert len(seen) == 1 and "d=20" in seen[0]  # only the missing run went to the cluster
    pd.testing.assert_frame_equal(df[df.run == 0], first)


def test_cli_sweep_on_an_unreachable_scheduler_exits_2_in_one_line_at_once(capsys, tmp_path):
    import time

    from tests.browser_support import free_port

    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    assert main(["sweep", "--regime", "feature", "--d", "10", "--steps", "2", "--scheduler", address,
                 "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler" in err and address in err
    assert time.monotonic() - t0 < 15  # generous: a refused connection is answered at once
