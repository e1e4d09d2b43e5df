"""The Dockerfile and docker-compose.yml: what they say (parsed), and the image built and run here (slow).

Parsed: the services, their commands, ports and environment, the install step, the build's inputs and what
the image leaves out. Built and run (marked slow, server and browser): the container engine from the OS
packages (scripts/ensure-docker), a dockerd of the test's own, a base image made from the OS packages by
mmdebstrap and `docker import`ed (no registry of images is reachable here), the Dockerfile built on it with
this machine's torch wheel and pip's CA bundle in deploy/local/; then the container's health, the live page
streaming in Chromium, and the compose topology (with a proxy image made from Debian's nginx) brought up.
Its figures (build times, image size) are printed and written to artifacts/containers.json.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from browser_support import ARTIFACTS, chromium, free_port, missing  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile's instructions per build stage (the last one, the image, under "")."""
    out: dict[str, list[tuple[str, str]]] = {}
    name = None
    for kind, args in dockerfile():
        if kind == "FROM":
            name = args.split(" AS ")[1].strip() if " AS " in args else ""
            out[name] = []
        elif name is not None:
            out[name].append((kind, args))
    return out


def test_compose_starts_the_app_a_scheduler_and_two_workers_from_one_image(compose):
    services = compose["services"]
    assert sorted(services) == ["app", "proxy", "scheduler", "worker-1", "worker-2"]  # proxy: test_replicas_topology
    for name, s in services.items():
        if name == "proxy":
            continue
        assert s["build"]["context"] == "." and s["image"] == "sharp:latest"
        assert s["build"]["args"]["TORCH"] == "cpu"
    assert services["scheduler"]["command"] == ["dask", "scheduler", "--port", "8786", "--dashboard-address", ":8787"]
    for w in ("worker-1", "worker-2"):
        assert services[w]["command"] == ["dask", "worker", "tcp://scheduler:8786", "--nthreads", "1"]
        assert services[w]["healthcheck"] == {"disable": True}  # the image's health check is the app's
    app = services["app"]
    assert "command" not in app  # the image's default command: the app
    assert app["environment"]["SHARP_SCHEDULER"] == "tcp://scheduler:8786" and app["expose"] == ["8501"]


def test_the_scheduler_and_its_dashboard_are_published_on_loopback_only(compose):
    # The scheduler runs whatever pickled code it is sent: on the host's loopback only (or not at all).
    for name, s in compose["services"].items():
        for port in s.get("ports", []):
            if name != "proxy":
                assert port.startswith("127.0.0.1:"), (name, port)
    assert compose["services"]["scheduler"]["ports"] == ["127.0.0.1:8786:8786", "127.0.0.1:8787:8787"]
    text = (ROOT / "docker-compose.yml").read_text()
    assert "deliberately" in text and 'ports "8786:8786"' in text  # how to open them, said where they are


def test_the_image_installs_as_the_makefile_does_requirements_before_the_source():
    args = dict(a.split("=", 1) for kind, a in dockerfile() if kind == "ARG")
    assert args["TORCH"] == "cpu" and args["BASE"] == "python:3.11-slim"  # the published default
    s = stages()
    assert list(s) == ["base", "deps", "source", ""]
    # deps: only what the install step reads, then the Makefile's step; no source yet, so a code change
    # leaves this stage (torch and all) cached
    def paths(copy: str) -> list[str]:
        return [a for a in copy.split() if not a.startswith("--")]

    copies = [a for kind, a in s["deps"] if kind == "COPY"]
    assert [paths(c) for c in copies] == [["Makefile", "requirements.txt", "./"],
                                               ["scripts/ensure-torch", "scripts/"],
                                               ["deploy/local/", "/tmp/local/"]]
    (install,) = [a for kind, a in s["deps"] if kind == "RUN"]
    assert install.endswith("PIP_FIND_LINKS=/tmp/local make install-deps TORCH=${TORCH}")
    # the image: the environment made above, the source without the build's inputs, then `make install`
    image = s[""]
    assert [a.split()[0] for kind, a in image if kind == "COPY"] == ["--from=deps", "--from=source"]
    assert [paths(a) for kind, a in image if kind == "COPY"] == [
        ["/home/sharp/app/.venv", ".venv"], ["/tmp/src/", "./"]]
    assert ("RUN", "make install -o .venv/bin/.deps-installed") in image
    assert ("RUN", "rm -rf /tmp/src/deploy/local") in s["source"]
    assert ("ENV", "PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1") in s["base"]  # no pip cache anywhere
    assert ("USER", "sharp") in image
    assert ("EXPOSE", "8501 8786 8787") in image
    env = [a for kind, a in image if kind == "ENV"]
    assert any(e.startswith("PATH=/home/sharp/app/.venv/bin:") for e in env)  # `dask` and `python` are .venv's
    cmd = [a for kind, a in image if kind == "CMD"][-1]
    assert "streamlit" in cmd and "--server.port=${PORT:-8501}" in cmd and "--server.address=0.0.0.0" in cmd


def test_the_build_context_leaves_out_tests_artifacts_caches_and_the_environment():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", ".git", "tests", "artifacts", "**/__pycache__", ".pytest_cache", ".ruff_cache",
            ".hypothesis", "*.egg-info"} <= ignored
    assert not any(i.startswith("deploy") for i in ignored)  # deploy/local/ is the build's own input


def test_the_makefile_installs_the_project_so_workers_import_it():
    make = (ROOT / "Makefile").read_text()
    assert "$(BIN)/python -m pip install -q --no-build-isolation -e ." in make
    assert "$(BIN)/python scripts/ensure-torch $(TORCH)" in make and "TORCH ?= cpu" in make
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'build-backend = "setuptools.build_meta"' in pyproject and 'include = ["sharp", "sharp.*"]' in pyproject
    pins = {line.split("==")[0]: line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if "==" in line}
    assert f'"{pins["torch"]}"' in pyproject  # the same pin in both: workers must run the same torch


# ---- built and run ----------------------------------------------------------------------------------------

DOCKER_ROOT = Path(os.environ.get("SHARP_TEST_DOCKER_ROOT", "/var/lib/sharp-test-docker"))
BASE = "sharp-test-base:bookworm"
PROXY_BASE = "sharp-test-proxy-base:sid"
PROXY = "sharp-test-proxy:sid"
IMAGE = "sharp:test"
DEPS = "sharp-test-deps:latest"
LOCK_WAIT_S = 1200  # another test session on this machine holds the engine: wait for it this long at most
# The official nginx image's template step (docker-entrypoint.d/20-envsubst-on-templates.sh), for a proxy image
# made from Debian's nginx: every *.template rendered into conf.d with the container's variables, then nginx.
PROXY_ENTRYPOINT = r"""#!/bin/sh
set -e
vars=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
for t in /etc/nginx/templates/*.template; do
  [ -e "$t" ] || continue
  envsubst "$vars" < "$t" > "/etc/nginx/conf.d/$(basename "$t" .template)"
done
exec "$@"
"""
PROXY_DOCKERFILE = f"""FROM {PROXY_BASE}
RUN rm -f /etc/nginx/sites-enabled/default && mkdir -p /etc/nginx/templates
COPY entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
"""


@dataclass
class Engine:
    docker: str
    env: dict[str, str]
    figures: dict[str, object] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
        p = subprocess.run([self.docker, *args], capture_output=True, text=True, timeout=timeout, env=self.env, **kw)
        if check and p.returncode:
            raise AssertionError(f"docker {shlex.join(args)[:200]} exited {p.returncode}: {p.stderr[-3000:]}")
        return p

    def has(self, image: str) -> bool:
        return self.run("image", "inspect", image, check=False).returncode == 0


@contextlib.contextmanager
def locked(path: Path, wait_s: float) -> Iterator[None]:
    """An exclusive lock on `path` (one dockerd per data root), waited for at most wait_s seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{path} stayed locked for {wait_s:g} s (another test session's container engine)")
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """The engine that answers already (DOCKER_HOST, or the default socket), else a dockerd of this module's own
    (its image store persists in DOCKER_ROOT between runs: base images and layers are reused), stopped at the
    end."""
    docker = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else shutil.which("docker")
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # the classic builder: docker.io's client has no buildx
    if docker and subprocess.run([docker, "info"], capture_output=True, env=env, timeout=30).returncode == 0:
        yield Engine(docker, env)
        return
    if not docker or not os.access(dockerd, os.X_OK) or not shutil.which("mmdebstrap"):
        missing("no container engine or mmdebstrap: run scripts/ensure-docker (make docker)")
    if os.geteuid() != 0:
        missing("starting dockerd needs root")
    with locked(DOCKER_ROOT.with_name(DOCKER_ROOT.name + ".lock"), LOCK_WAIT_S):
        run = Path(tempfile.mkdtemp(prefix="sharp-dockerd-"))
        env["DOCKER_HOST"] = f"unix://{run}/docker.sock"
        ARTIFACTS.mkdir(exist_ok=True)
        with open(ARTIFACTS / "dockerd.log", "w") as log:
            proc = subprocess.Popen([dockerd, "--host", env["DOCKER_HOST"], "--data-root", str(DOCKER_ROOT),
                                     "--exec-root", str(run / "exec"), "--pidfile", str(run / "docker.pid")],
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while subprocess.run([docker, "info"], capture_output=True, env=env, timeout=30).returncode:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dockerd did not start (exit {proc.poll()}); see {ARTIFACTS / 'dockerd.log'}")
                time.sleep(0.5)
            yield Engine(docker, env)
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            # dockerd leaves its exec root's network namespace mounted (exec/netns/default), even when it
            # shuts down cleanly: unmounted here, so that the folder goes too
            for line in reversed(Path("/proc/self/mounts").read_text().splitlines()):
                if line.split()[1].startswith(f"{run}/"):
                    subprocess.run(["umount", "-l", line.split()[1]], capture_output=True, timeout=30)
            shutil.rmtree(run, ignore_errors=True)


def make_base(engine: Engine, tag: str, suite: str, packages: list[str]) -> float:
    """An image of Debian `suite` with `packages`, made by mmdebstrap and `docker import`ed, unless the engine
    has it (then 0 s); the seconds it took."""
    if engine.has(tag):
        return 0.0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sharp-base-") as tmp:
        tar = Path(tmp) / "base.tar"
        p = subprocess.run(["mmdebstrap", "--variant=apt", "--include=" + ",".join(packages),
                            # sid's Release file carries a validity date, which this machine's clock may pass
                            "--aptopt=Acquire::Check-Valid-Until \"false\"",
                            *(f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("man", "doc", "locale")),
                            suite, str(tar)], capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, f"mmdebstrap {suite} failed: {p.stderr[-3000:]}"
        engine.run("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "--change", "ENV LANG=C.UTF-8", str(tar), tag)
    return time.monotonic() - t0


def pip_setting(name: str) -> list[str]:
    """Values of a pip setting on this machine (pip config list: its files and PIP_* variables)."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    values = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.rsplit(".", 1)[-1] == name:
            values += value.strip().strip("'\"").split()
    return values


def build_context(folder: Path) -> list[str]:
    """A copy of the checkout as git sees it (tracked and new files, not ignored ones) in `folder`, with this
    machine's pip inputs in deploy/local/: torch's CPU wheel from pip's find-links, pip's CA bundle.
    Returns what was put there."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for f in files:
        if (ROOT / f).is_file():
            (folder / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, folder / f)
    pin = re.search(r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    local, added = folder / "deploy" / "local", []
    for where in dict.fromkeys(pip_setting("find-links")):  # a folder may be named twice (file and variable)
        for wheel in Path(where).glob(f"torch-{pin}+cpu-cp311-*linux*x86_64.whl") if Path(where).is_dir() else []:
            if (local / wheel.name).exists():
                continue
            try:
                os.link(wheel, local / wheel.name)
            except OSError:
                shutil.copy(wheel, local / wheel.name)
            added.append(wheel.name)
    for cert in pip_setting("cert")[:1]:
        shutil.copy(cert, local / "ca-certificates.crt")
        added.append(f"ca-certificates.crt (pip's cert: {cert})")
    return added


@pytest.fixture(scope="module")
def image(engine, tmp_path_factory) -> str:
    """The Dockerfile built once on the base made here; a second build after a code change is timed too."""
    f = engine.figures
    f["base_s"] = round(make_base(engine, BASE, "bookworm", ["python3", "python3-venv", "ca-certificates", "make",
                                                             "passwd"]), 1)
    ctx = tmp_path_factory.mktemp("context")
    f["local_inputs"] = build_context(ctx)
    build = ["build", "--network", "host", "--build-arg", f"BASE={BASE}", str(ctx)]
    t0 = time.monotonic()
    # The install stage tagged too, so that clearing out old images below keeps it (the next run's cache).
    engine.run(*build, "--target", "deps", "-t", DEPS, timeout=1800)
    build += ["-t", IMAGE]
    first = engine.run(*build, timeout=1800)
    f["build_s"] = round(time.monotonic() - t0, 1)
    f["build_steps_from_cache"] = first.stdout.count("Using cache")
    # A code change: only the source's layers are made again, torch and the rest are not reinstalled.
    (ctx / "app.py").write_text((ctx / "app.py").read_text() + "\n# a code change\n")
    t0 = time.monotonic()
    second = engine.run(*build, timeout=1800)
    f["rebuild_after_code_change_s"] = round(time.monotonic() - t0, 1)
    steps = re.split(r"^Step \d+/\d+ : ", second.stdout, flags=re.M)
    (install,) = [s for s in steps if "make install-deps" in s.splitlines()[0]]
    assert "Using cache" in install and "ensure-torch" not in install, install[-2000:]
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    f["image_mb"] = round(size / 1e6)
    f["base_mb"] = round(int(engine.run("image", "inspect", "--format", "{{.Size}}", BASE).stdout) / 1e6)
    engine.run("image", "prune", "-f")  # earlier builds' images no tag names any more
    return IMAGE


def record(engine: Engine) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "containers.json").write_text(json.dumps(engine.figures, indent=2))
    print("\ncontainers:", json.dumps(engine.figures))


def wait_health(url: str, timeout_s: float, proc_check=None) -> float:
    t0 = time.monotonic()
    while True:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=3).read().strip() == b"ok":
                return time.monotonic() - t0
        except OSError:
            pass
        if proc_check:
            proc_check()
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{url} answered no health check within {timeout_s:g} s")
        time.sleep(0.5)


# Every /api/live answer the page's script gets: how many rows it carried (the stream, as the page reads it).
LIVE_ROWS = """(() => { window.__live = []; const f = window.fetch;
  window.fetch = async (u, ...rest) => { const r = await f(u, ...rest);
    if (String(u).includes('/api/live?')) {
      try { const j = await r.clone().json();
            window.__live.push(Object.values(j.rows || {}).reduce((n, v) => n + v.length, 0)); }
      catch (e) { window.__live.push(-1); } }
    return r; }; })()"""
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('[data-chart^="live-"]'))
  .filter(e => +e.dataset.points > 0).length >= 2"""


def streams(browser, base: str) -> dict[str, object]:
    """Open the live page; it must stream (several /api/live answers with rows) and draw both charts."""
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.add_init_script(LIVE_ROWS)
    try:
        t0 = time.monotonic()
        page.goto(base + "/?seed=41&steps=600", wait_until="domcontentloaded")
        page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
        page.wait_for_function("() => window.__live.filter(n => n > 0).length >= 3", timeout=60_000)
        live = page.evaluate("() => window.__live")
        assert page.locator('[data-testid="stException"]').count() == 0
        return {"charts_drawn_s": round(time.monotonic() - t0, 1), "answers_with_rows": sum(n > 0 for n in live)}
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.browser
def test_the_image_runs_the_app_healthy_and_streaming(engine, image, chromium):  # noqa: F811
    port = free_port()
    name = f"sharp-test-{port}"
    # As a platform runs it (PORT set); on the host's network, so only loopback is involved. No warm-up: the
    # paper pages' precomputation would take the cores from what is checked here.
    engine.run("run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}", "-e", "SHARP_WARM=0",
               image)
    try:
        def alive():
            state = engine.run("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
            if state != "running":
                logs = engine.run("logs", name, check=False)
                raise AssertionError(f"the container is {state}: {(logs.stdout + logs.stderr)[-3000:]}")

        engine.figures["container_health_s"] = round(wait_health(f"http://127.0.0.1:{port}", 180, alive), 1)
        engine.figures["live_page"] = streams(chromium, f"http://127.0.0.1:{port}")
        # the image's own HEALTHCHECK (every 30 s) reports it healthy
        deadline = time.monotonic() + 120
        while (status := engine.run("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()) \
                != "healthy":
            assert status == "starting" and time.monotonic() < deadline, status
            time.sleep(2)
        # what is in the image: the app's user, no pip cache, no tests, no build inputs, no history
        inside = engine.run("exec", name, "sh", "-c", "id -u; ls -A ~/.cache 2>/dev/null | grep -c pip; "
                            "ls -d tests deploy/local .git 2>/dev/null | wc -l; sharp --version").stdout.split("\n")
        assert inside[:3] == ["1000", "0", "0"], inside
        assert inside[3].startswith("sharp ") and "+cpu" in inside[3], inside
        engine.figures["in_image"] = inside[3]
    finally:
        engine.run("rm", "-f", name, check=False)
        record(engine)


@pytest.fixture(scope="module")
def proxy_image(engine) -> str:
    engine.figures["proxy_base_s"] = round(make_base(engine, PROXY_BASE, "sid", ["nginx", "gettext-base"]), 1)
    with tempfile.TemporaryDirectory(prefix="sharp-proxy-") as tmp:
        (Path(tmp) / "entrypoint.sh").write_text(PROXY_ENTRYPOINT)
        (Path(tmp) / "entrypoint.sh").chmod(0o755)
        (Path(tmp) / "Dockerfile").write_text(PROXY_DOCKERFILE)
        engine.run("build", "-t", PROXY, tmp)
    engine.figures["proxy_nginx"] = engine.run("run", "--rm", PROXY, "nginx", "-v").stderr.strip()
    return PROXY


def upstreams(url: str, n: int) -> set[str]:
    """The replicas that answered n requests without the affinity cookie (each a new visitor)."""
    seen = set()
    for _ in range(n):
        with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
            assert r.read().strip() == b"ok"
            seen.add(r.headers["X-Upstream"])
    return seen


@pytest.mark.slow
@pytest.mark.server
def test_the_compose_topology_comes_up_and_the_proxy_follows_the_replicas(engine, image, proxy_image, compose,
                                                                         tmp_path):
    """docker-compose.yml as it is, but for the host ports (free ones on loopback, so that nothing else on
    this machine is disturbed): two replicas, the scheduler and two workers, the proxy; then a third replica
    added while the proxy runs."""
    engine.run("tag", image, "sharp:latest")
    ports = {"proxy": free_port(), "scheduler": free_port(), "dashboard": free_port()}
    text = (ROOT / "docker-compose.yml").read_text()
    for old, new in ((' ports: ["8501:8501"]', f' ports: ["127.0.0.1:{ports["proxy"]}:8501"]'),
                     ('"127.0.0.1:8786:8786", "127.0.0.1:8787:8787"',
                      f'"127.0.0.1:{ports["scheduler"]}:8786", "127.0.0.1:{ports["dashboard"]}:8787"')):
        assert old in text
        text = text.replace(old, new)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "docker-compose.yml").write_text(text)
    # the tests' settings for the app (as tests/conftest.py's): no warm-up, one thread, one live worker
    (tmp_path / "test.yml").write_text(yaml.safe_dump({"services": {"app": {"environment": {
        "SHARP_WARM": "0", "SHARP_THREADS": "1", "SHARP_WORKERS": "1"}}}}))
    project = f"sharptest{ports['proxy']}"
    dc = ["docker-compose", "--compatibility", "-p", project, "-f", "docker-compose.yml", "-f", "test.yml"]
    env = {**engine.env, "SHARP_PROXY_IMAGE": proxy_image, "SHARP_REPLICAS": "2"}

    def compose_run(*args: str, timeout: float = 600) -> str:
        p = subprocess.run([*dc, *args], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=timeout)
        assert p.returncode == 0, f"docker-compose {' '.join(args)}: {p.stderr[-3000:]}"
        return p.stdout

    url = f"http://127.0.0.1:{ports['proxy']}"
    f = engine.figures
    try:
        t0 = time.monotonic()
        compose_run("up", "-d", "--no-build")  # returns once the proxy started, after the replicas' health
        wait_health(url, 120)
        f["compose_up_s"] = round(time.monotonic() - t0, 1)
        assert len(upstreams(url, 16)) == 2  # 16 new visitors over 2 replicas: both (all on one: p = 2^-15)
        # the scheduler's ports on loopback only, and both workers joined it
        scheduler = compose_run("ps", "-q", "scheduler").strip()
        published = engine.run("port", scheduler).stdout
        assert all(line.split(" -> ")[1].startswith("127.0.0.1:") for line in published.strip().splitlines()), published
        count = compose_run("exec", "-T", "scheduler", "python", "-c",
                            "from distributed import Client; c = Client('tcp://localhost:8786', timeout=20); "
                            "print(len(c.nthreads()))", timeout=120)
        assert count.strip().splitlines()[-1] == "2", count
        # a third replica while the proxy runs: nginx looks `app` up again (resolve) and sends visitors to it
        proxy = compose_run("ps", "-q", "proxy").strip()
        started = engine.run("inspect", "--format", "{{.State.StartedAt}}", proxy).stdout
        t0 = time.monotonic()
        compose_run("up", "-d", "--no-build", "--no-recreate", "--scale", "app=3")
        seen: set[str] = set()
        while len(seen) < 3:
            assert time.monotonic() - t0 < 180, f"the proxy sent new visitors to {sorted(seen)} only"
            seen |= upstreams(url, 8)
        f["third_replica_served_after_s"] = round(time.monotonic() - t0, 1)
        assert engine.run("inspect", "--format", "{{.State.StartedAt}}", proxy).stdout == started  # not restarted
        f["compose"] = "app x3 (scaled from 2 while running), scheduler, 2 workers, proxy: up"
    finally:
        subprocess.run([*dc, "down", "-v", "--remove-orphans"], cwd=tmp_path, capture_output=True, env=env,
                       timeout=300)
        record(engine)
