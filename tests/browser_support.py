"""Fixtures for tests that drive the real app in headless Chromium (reusable by any page's browser test).

Use from a test module in tests/:  `from browser_support import app_server, chromium  # noqa: F401`.
Chromium comes from the OS packages (scripts/ensure-chromium); Playwright never downloads a browser here.
Without Chromium or Playwright the tests skip, except under CI (CI set), where they fail.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SHARP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts"
# Points per chart on the page: the app's own charts say theirs (data-points: the live page's, its neuron views, the
# SVG charts); a Plotly chart's is the sum over its traces (0 for data that is not a plain array).
TRACE_POINTS = """() => Array.from(document.querySelectorAll('[data-chart], .js-plotly-plot')).map(e =>
  e.dataset.chart ? +e.dataset.points : (e.data || []).reduce((s, t) => s + ((t.x && t.x.length) || 0), 0))"""


def launch_niced(pw, folder: Path, nice: int, group: bool = True):
    """Headless Chromium whose threads run at `nice` without the right to raise it (a wrapper script in folder).

    Two things undid a plain `nice`, and each had the browsers crowd out the server:
    - As root, Chromium raises its own threads' priority (renderers back to nice 0, compositors to -8).
      Without the capability to raise priority (setpriv), they stay at `nice`.
    - With autogroup scheduling (Linux's default on desktops, and on this machine), the kernel first shares
      the CPU equally between sessions, and nice values count only inside a session. Playwright starts the
      browser in a session of its own, the server runs in another: the browsers got as much CPU as the
      server whatever their nice value. With `group`, the wrapper lowers its own session's group to `nice`
      too: only when it leads the session, so that it never lowers the test's own.
    """
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"Chromium not found at {CHROMIUM}: run scripts/ensure-chromium")
    keep_nice = "setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice " if os.geteuid() == 0 else ""
    lower_group = ('if [ "$(cut -d" " -f6 /proc/$$/stat)" = "$$" ] && [ -w /proc/self/autogroup ]; then\n'
                   f"  echo {nice} > /proc/self/autogroup\nfi\n") if group else ""
    wrapper = folder / "chromium"
    wrapper.write_text(f'#!/bin/sh\n{lower_group}exec {keep_nice}nice -n {nice} "{CHROMIUM}" "$@"\n')
    wrapper.chmod(0o755)
    return pw.chromium.launch(executable_path=str(wrapper), args=CHROMIUM_ARGS)


def missing(reason: str) -> None:
    """Skip the test, or fail it under CI, where a missing browser must not pass silently."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so browser tests must run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVERS: dict[str, subprocess.Popen] = {}  # base URL -> the server process, while it runs


@contextlib.contextmanager
def serve(entry: str = "app.py", timeout: float = 120, env: dict[str, str] | None = None,
          on_start: Callable[[subprocess.Popen], None] | None = None, prefix: str = "") -> Iterator[str]:
    """Run `streamlit run entry` from the repo root with this Python; yield its base URL once healthy.

    env: extra environment variables for the server; on_start: called with the server process (its pid);
    prefix: Streamlit's server.baseUrlPath (e.g. "demo/sharp"): the app is then served below it, and the URL
    yielded ends with it. The server's process is SERVERS[base] meanwhile (load tests read its CPU time and
    memory from /proc).
    """
    port = free_port()
    log_path = ARTIFACTS / f"streamlit-{port}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, "SHARP_THREADS": os.environ.get("SHARP_THREADS", "1"), **(env or {})}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", entry, "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             *(["--server.baseUrlPath", prefix] if prefix else [])],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    if on_start:
        on_start(proc)
    base = f"http://127.0.0.1:{port}" + (f"/{prefix.strip('/')}" if prefix.strip("/") else "")
    SERVERS[base] = proc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start; see {log_path}") from None
                time.sleep(0.3)
        yield base
    finally:
        SERVERS.pop(base, None)
        stop(proc)


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """End a server process: SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium browser (Playwright, OS binary); skips or fails (CI) when unavailable."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"Chromium not found at {CHROMIUM}: run scripts/ensure-chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_server(chromium) -> Iterator[str]:
    """The app served on a free local port for the module's tests; yields its base URL."""
    with serve() as base:
        yield base


def chart_points(page) -> list[int]:
    """Points per Plotly chart currently on the page."""
    return page.evaluate(TRACE_POINTS)


SETTLED = """([expr, frames]) => new Promise((done) => {
  // resolves once `expr` (a function's source) gives the same JSON on `frames` animation frames in a row
  const f = eval(expr); let last = null, same = 0, n = 0;
  const tick = () => {
    const now = JSON.stringify(f());
    same = now === last ? same + 1 : 0; last = now;
    if (same >= frames || ++n > 600) done(same >= frames); else requestAnimationFrame(tick);
  };
  tick();
})"""


def settled(page, expr: str = "() => document.body.scrollHeight", frames: int = 10) -> bool:
    """Wait until the page's layout rests: `expr` (JavaScript, a function's source; default the page's height)
    the same on `frames` animation frames in a row, at most 600 frames. Returns whether it did."""
    return bool(page.evaluate(SETTLED, [expr, frames]))


def exceptions(page) -> int:
    return page.locator('[data-testid="stException"]').count()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants_cpu_s(except_under: int | None = None) -> float:
    """CPU seconds used so far by every process started under this one (Playwright's driver, Chromium and its
    renderers), leaving out those under `except_under` (a server this process started), from /proc."""
    parent = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            parent[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # ended meanwhile
            continue

    def under(pid: int, root: int) -> bool:
        for _ in range(64):  # bounded: a process tree is not that deep
            if pid == root:
                return True
            if pid not in parent:
                return False
            pid = parent[pid]
        return False

    total, me = 0.0, os.getpid()
    for pid in parent:
        if pid != me and under(pid, me) and not (except_under is not None and under(pid, except_under)):
            try:
                total += cpu_s(pid)
            except OSError:
                continue
    return total


def health_s(base: str, timeout: float = 10.0) -> float:
    """Seconds the server's health endpoint takes to answer (timeout if it does not)."""
    t0 = time.perf_counter()
    try:
        urllib.request.urlopen(base + "/_stcore/health", timeout=timeout).read()
    except OSError:
        return timeout
    return time.perf_counter() - t0
