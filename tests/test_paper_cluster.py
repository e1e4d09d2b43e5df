"""The paper pages with $SHARP_SCHEDULER: they say where they run, on the cluster or here when it is unreachable."""
import pytest
from dask.distributed import LocalCluster
from streamlit.testing.v1 import AppTest

from sharp.engine import store as cache
from sharp.serve import placement
from tests.browser_support import free_port

SAMPLES = {"samples_d": [8], "samples_n": [32, 64], "samples_seeds": 1}


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


@pytest.fixture
def scheduler():
    # workers as threads of this process, reached over loopback TCP as a real scheduler would be
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=":0") as cluster:
        yield cluster.scheduler_address
    for client in placement._clients.values():  # the server-wide client from_env keeps
        client.close()
    placement._clients.clear()


def samples_page() -> AppTest:
    at = AppTest.from_file("../views/samples.py", default_timeout=120)
    for k, v in SAMPLES.items():
        at.session_state[k] = v
    return at.run()


@pytest.mark.server
def test_the_page_runs_on_the_named_scheduler_and_says_so(scheduler, monkeypatch):
    monkeypatch.setenv(placement.ENV, scheduler)
    at = samples_page()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [f"Runs on the Dask cluster at {scheduler} (1 worker, 1 thread)."]
    assert len(at.get("plotly_chart")) == 1


def test_an_unreachable_scheduler_leaves_the_work_here_with_a_message(monkeypatch):
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv(placement.ENV, address)
    at = samples_page()
    assert not at.exception, at.exception
    assert len(at.info) == 1 and address in at.info[0].value and "running here" in at.info[0].value
    assert len(at.get("plotly_chart")) == 1


def test_without_the_variable_the_page_says_nothing_about_dask(monkeypatch):
    monkeypatch.delenv(placement.ENV, raising=False)
    at = samples_page()
    assert not at.exception and not at.info and len(at.get("plotly_chart")) == 1
