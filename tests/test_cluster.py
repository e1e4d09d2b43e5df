"""Sweeps on a real Dask cluster: the `dask scheduler` and `dask worker` programs as separate processes.

As a user runs them: from a working directory outside the checkout, with no PYTHONPATH, so that a process
imports sharp only because the project is installed in .venv (`make install`). Loopback only; every wait is
bounded, and every process is killed in a finally block.
"""
from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sharp.cli import main
from sharp.distributed import reachable
from tests.browser_support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the project's .venv/bin: dask, python
START_S = 90  # bound on a process coming up on a loaded 2-core machine
SWEEP_S = 180  # bound on one CLI sweep
# Small runs: each a fraction of a second, so that the file runs in well under 90 s on a quiet machine.
GRID = ["--regime", "feature", "--d", "12,24", "--n", "40,80", "--steps", "6", "--every", "3", "--seeds", "2",
        "--n-test", "300", "--no-cache", "--quiet"]
# Longer runs for the worker-loss test: a worker has to be busy when it is killed, so each run takes about
# 2 s (a CI run where they took 0.05 s saw the sweep end between two looks at the workers).
LONG = ["--regime", "feature", "--d", "40,60,80", "--n", "200,400", "--steps", "12000", "--every", "4000",
        "--seeds", "4", "--n-test", "2000", "--no-cache"]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SHARP_CACHE_DIR=str(tmp / "cache"), SHARP_THREADS="1", PYTHONUNBUFFERED="1")
    return env


class Procs:
    """The processes one test module started, killed at the end whatever happened."""

    def __init__(self, cwd: Path):
        self.cwd, self.all = cwd, []

    def start(self, *args: str, python: Path | None = None, path: Path | None = None) -> subprocess.Popen:
        cmd = [str(python), "-m", "dask", *args] if python else [str(BIN / "dask"), *args]
        log = open(self.cwd / f"{args[0]}-{len(self.all)}.log", "w")  # read it when a test fails
        env = _env(self.cwd) | ({"PYTHONPATH": str(path)} if path else {})
        p = subprocess.Popen(cmd, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.all.append(p)
        return p

    def scheduler(self, python: Path | None = None) -> str:
        port = free_port()
        self.start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard", python=python)
        address = f"tcp://127.0.0.1:{port}"
        _until(lambda: reachable(address, 0.5), START_S, f"no scheduler at {address}")
        return address

    def worker(self, address: str, python: Path | None = None, path: Path | None = None
               ) -> tuple[subprocess.Popen, str]:
        port = free_port()
        p = self.start("worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--worker-port", str(port),
                       "--no-dashboard", "--no-nanny", python=python, path=path)
        return p, f"tcp://127.0.0.1:{port}"

    def wait_workers(self, address: str, n: int) -> None:
        from dask.distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(n, timeout=START_S)

    def close(self) -> None:
        for p in self.all:
            if p.poll() is None:
                p.kill()
        for p in self.all:
            p.wait(timeout=30)


def _until(ok, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers from .venv, started outside the checkout; yields (procs, address, client)."""
    from dask.distributed import Client

    cwd = tmp_path_factory.mktemp("cluster")
    procs = Procs(cwd)
    try:
        address = procs.scheduler()
        procs.worker(address)
        procs.worker(address)
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=START_S)
            yield procs, address, client
    finally:
        procs.close()


def _cli(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "python"), "-m", "sharp", "sweep", *args], cwd=cwd, env=_env(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _local(args: list[str], out: Path, monkeypatch) -> bytes:
    monkeypatch.setenv("SHARP_THREADS", "1")  # as on the workers
    assert main(["sweep", *args, "--quiet", "--out", str(out)]) == 0
    return out.read_bytes()


def test_sharp_is_importable_outside_the_checkout_only_because_it_is_installed(tmp_path):
    p = subprocess.run([str(BIN / "python"), "-c", "import sharp; print(sharp.__file__)"], cwd=tmp_path,
                       env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"sharp is not installed in .venv (run `make install`): {p.stderr[-300:]}"
    assert Path(p.stdout.strip()).parent == ROOT / "sharp"  # the editable install of this checkout


def test_cli_sweep_on_the_cluster_equals_the_local_sweep_exactly(cluster, tmp_path, monkeypatch):
    _, address, _ = cluster
    p = _cli([*GRID, "--scheduler", address, "--out", "cluster.csv"], tmp_path)
    out, err = p.communicate(timeout=SWEEP_S)
    assert p.returncode == 0, err
    assert (tmp_path / "cluster.csv").read_bytes() == _local(GRID, tmp_path / "local.csv", monkeypatch)


def test_a_sweep_survives_a_killed_worker_and_still_equals_the_local_sweep(cluster, tmp_path, monkeypatch):
    procs, address, client = cluster
    p = _cli([*LONG, "--scheduler", address, "--out", "cluster.csv"], tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in p.stderr], daemon=True).start()

    def log() -> str:
        out = []
        while not lines.empty():
            out.append(lines.get())
        return "".join(out)

    busy: list[str] = []

    def a_worker_is_busy() -> bool:
        if p.poll() is not None:  # the sweep ended (or failed) before any task was seen running: say so now
            raise AssertionError(f"the sweep exited ({p.returncode}) before a worker was seen busy:\n{log()}")
        busy.extend(w for w, keys in client.processing().items() if keys)
        return bool(busy)

    try:
        # Kill a worker while it runs one of the sweep's tasks (SIGKILL: no goodbye to the scheduler).
        _until(a_worker_is_busy, SWEEP_S, "no worker got a task")
        victim = _worker_proc(procs, busy[0])
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        procs.worker(address)  # the replacement
        rc = p.wait(timeout=SWEEP_S)
    finally:
        if p.poll() is None:
            p.kill()
    text = log()
    assert rc == 0, text
    assert sum("done" in line for line in text.splitlines()) == 6, text
    assert (tmp_path / "cluster.csv").read_bytes() == _local(LONG, tmp_path / "local.csv", monkeypatch)


def _worker_proc(procs: Procs, address: str) -> subprocess.Popen:
    port = address.rsplit(":", 1)[1]
    return next(p for p in procs.all if p.args[1] == "worker" and port in p.args and p.poll() is None)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A Python with every package of .venv except sharp: a venv whose site-packages points at .venv's.

    A path listed in a .pth file is added to sys.path, but the .pth files inside it are not run, so the
    editable install's import hook for sharp never loads there.
    """
    import site
    import venv

    root = tmp_path_factory.mktemp("bare")
    venv.create(root / "venv", with_pip=False)
    py = root / "venv" / "bin" / "python"
    site_dir = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    Path(site_dir, "dot-venv.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    check = subprocess.run([str(py), "-c", "import dask.distributed, torch\ntry:\n import sharp\nexcept ImportError:"
                            "\n print('no sharp')"], cwd=root, env=_env(root), capture_output=True, text=True,
                           timeout=120)
    assert check.stdout.strip() == "no sharp", check.stderr
    return py


@pytest.mark.parametrize("bare", ["worker", "scheduler"])
def test_a_process_without_the_package_is_refused_in_one_line(bare, bare_python, tmp_path, capsys):
    procs = Procs(tmp_path)
    try:
        address = procs.scheduler(python=bare_python if bare == "scheduler" else None)
        procs.worker(address, python=bare_python if bare == "worker" else None)
        procs.wait_workers(address, 1)
        rc = main(["sweep", *GRID, "--scheduler", address, "--out", str(tmp_path / "x.csv")])
    finally:
        procs.close()
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert f"the Dask {bare}" in err and "cannot import sharp" in err and "pip install ." in err
    assert not (tmp_path / "x.csv").exists()


def test_a_scheduler_lost_mid_sweep_ends_the_cli_in_one_line(tmp_path):
    from dask.distributed import Client

    procs = Procs(tmp_path)
    try:
        address = procs.scheduler()
        _, worker = procs.worker(address)
        procs.wait_workers(address, 1)
        p = _cli([*LONG, "--quiet", "--scheduler", address, "--out", "x.csv"], tmp_path)
        with Client(address, timeout="60s") as client:
            _until(lambda: bool(client.processing(workers=[worker]).get(worker)), SWEEP_S, "the worker got no task")
            procs.all[0].kill()  # the scheduler
        _, err = p.communicate(timeout=SWEEP_S)
    finally:
        procs.close()
    assert p.returncode == 2 and err.count("\n") == 1, err
    assert "lost the connection to the Dask scheduler" in err and not (tmp_path / "x.csv").exists()


def _edited_engine(tmp_path: Path) -> Path:
    """A copy of this checkout's sharp with one comment added to the training code: the same version number,
    another source digest. A worker started on it (bare_python, PYTHONPATH) really runs that other engine."""
    edited = tmp_path / "edited"
    shutil.copytree(ROOT / "sharp", edited / "sharp", ignore=shutil.ignore_patterns("__pycache__"))
    with open(edited / "sharp" / "engine" / "train.py", "a") as f:
        f.write("# edited on one worker only\n")
    return edited


def test_a_worker_running_an_edited_engine_is_refused_in_one_line(bare_python, tmp_path, capsys):
    edited = _edited_engine(tmp_path)
    procs = Procs(tmp_path)
    try:
        address = procs.scheduler()
        procs.worker(address)
        _, odd = procs.worker(address, python=bare_python, path=edited)
        procs.wait_workers(address, 2)
        rc = main(["sweep", *GRID, "--scheduler", address, "--out", str(tmp_path / "x.csv")])
    finally:
        procs.close()
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert f"the Dask worker {odd} runs sharp" in err and "engine" in err and "pip install ." in err
    assert not (tmp_path / "x.csv").exists()


# Put on a worker's PYTHONPATH: the worker dies (SIGKILL, no goodbye) the moment something imports sharp in it,
# which the engine check's probe is the first to do: a machine lost during the check.
DIE_ON_SHARP = """import os, signal, sys


class DieOnSharp:
    def find_spec(self, name, path=None, target=None):
        if name == "sharp":
            os.kill(os.getpid(), signal.SIGKILL)


sys.meta_path.insert(0, DieOnSharp())
"""


def test_a_worker_lost_during_the_check_is_skipped_and_the_sweep_runs_on(tmp_path, capsys, caplog, monkeypatch):
    dies = tmp_path / "dies"
    dies.mkdir()
    (dies / "sitecustomize.py").write_text(DIE_ON_SHARP)
    procs = Procs(tmp_path)
    try:
        address = procs.scheduler()
        procs.worker(address)
        doomed, lost = procs.worker(address, path=dies)
        procs.wait_workers(address, 2)
        with caplog.at_level("WARNING", logger="sharp.distributed"):
            rc = main(["sweep", *GRID, "--quiet", "--scheduler", address, "--out", str(tmp_path / "x.csv")])
        died = doomed.wait(timeout=30)
    finally:
        procs.close()
    assert rc == 0, capsys.readouterr().err
    assert died == -signal.SIGKILL  # it was alive until the probe reached it
    skipped = [r.getMessage() for r in caplog.records if r.name == "sharp.distributed"]
    assert len(skipped) == 1, skipped
    assert skipped[0].startswith(f"the Dask worker {lost} left during the engine check ("), skipped
    assert (tmp_path / "x.csv").read_bytes() == _local(GRID, tmp_path / "local.csv", monkeypatch)


def test_a_worker_joining_after_the_check_with_another_engine_is_refused_before_computing(bare_python, tmp_path):
    from dask.distributed import Client

    edited = _edited_engine(tmp_path)
    procs, p = Procs(tmp_path), None
    try:
        address = procs.scheduler()
        first, checked = procs.worker(address)
        procs.wait_workers(address, 1)
        p = _cli([*LONG, "--quiet", "--scheduler", address, "--out", "x.csv"], tmp_path)
        with Client(address, timeout="60s") as client:
            _until(lambda: bool(client.processing(workers=[checked]).get(checked)), SWEEP_S, "the worker got no task")
            # The check is over (tasks run). Hold the checked worker, so that the grid's other tasks wait in the
            # scheduler's queue for the newcomer, which joins running the edited engine.
            first.send_signal(signal.SIGSTOP)
            _, odd = procs.worker(address, python=bare_python, path=edited)
            _, err = p.communicate(timeout=SWEEP_S)
    finally:
        if p is not None and p.poll() is None:
            p.kill()
        procs.close()
    assert p.returncode == 2 and err.count("\n") == 1, err
    assert f"the Dask worker {odd} runs sharp" in err and "this client sharp" in err and "pip install ." in err
    assert not (tmp_path / "x.csv").exists()
