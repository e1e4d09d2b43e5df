"""The app under a path prefix, behind nginx on a sub-path: every page answers and the live page streams.

Streamlit serves the app with `server.baseUrlPath` = demo/sharp, and nginx forwards only /demo/sharp/ to it
(deploy/nginx-subpath.conf.template), as a shared host or a hosting service does: a request outside the prefix
never reaches the app. In Chromium, through nginx: each page draws its title with no error and asks for nothing
outside the prefix; the live page's script, its charting library and its stream (rows arriving, charts drawn)
come from below the prefix. Loopback only; every wait is bounded.
"""
from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browser_support import ROOT, chromium, exceptions, free_port, missing, serve, stop  # noqa: F401
from test_replicas_topology import sr  # scripts/serve_replicas.py, loaded once as a module

from web import assets, guard

pytestmark = [pytest.mark.browser, pytest.mark.server]
PREFIX = "/demo/sharp"
TEMPLATE = ROOT / "deploy" / "nginx-subpath.conf.template"
POINTS = """() => Array.from(document.querySelectorAll('[data-chart^="live-"]')).map(e => +e.dataset.points)"""


def status(url: str) -> int:
    """The HTTP status of GET url (0 when nothing answers)."""
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


@contextlib.contextmanager
def nginx_in_front(app: str, prefix: str):
    """nginx on a free port forwarding only `prefix`/ to `app` (host:port), from the deploy recipe; yields its URL."""
    binary = sr.nginx_binary()
    if binary is None:
        missing("nginx not found: run scripts/ensure-nginx (make nginx)")
    port = free_port()
    text = TEMPLATE.read_text()
    for name, value in {"SHARP_PREFIX": prefix, "SHARP_APP": app, "SHARP_PROXY_PORT": str(port)}.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text
    with tempfile.TemporaryDirectory(prefix="sharp-prefix-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)  # nginx's workers (user nobody when started as root) buffer under it
        (folder / "sharp.conf").write_text(text)
        (folder / "nginx.conf").write_text(sr.nginx_conf(folder / "sharp.conf", folder))
        proc = subprocess.Popen([binary, "-c", str(folder / "nginx.conf"), "-p", str(folder)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):  # bounded: at most about 30 s
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {(folder / 'error.log').read_text()[-2000:]}")
                if status(url + prefix + "/_stcore/health") == 200:
                    break
                time.sleep(0.3)
            yield url
        finally:
            stop(proc)


@pytest.fixture(scope="module")
def proxy(chromium):  # noqa: F811
    """(nginx's URL, the app's own URL with its prefix)."""
    with serve(prefix=PREFIX, env={"SHARP_WARM": "0"}) as app:
        with nginx_in_front(urllib.parse.urlsplit(app).netloc, PREFIX) as url:
            yield url, app


def test_only_the_prefix_reaches_the_app_and_every_route_is_there(proxy):
    url, app = proxy
    live_js = "/" + assets.url("live.js")
    assert status(url + PREFIX + live_js) == 200 and status(url + PREFIX + "/api/status") == 200
    assert status(url + live_js) == 404 and status(url + "/api/live") == 404  # outside the prefix: not the app's
    root = urllib.parse.urlsplit(app)._replace(path="").geturl()
    assert status(root + live_js) == 404  # the app itself serves nothing of its own outside its prefix either
    for path in guard.page_paths():  # every page's HTML comes with the page guard
        page = urllib.request.urlopen(url + PREFIX + path.rstrip("/") + "/" * (path == "/"), timeout=10).read()
        assert b"__sharpGuard" in page, path


def open_logged(browser, url: str):
    """A page and the paths it asked for (as [path, status]); the log fills as it loads."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    asked: list[list] = []
    page.on("response", lambda r: asked.append([urllib.parse.urlsplit(r.url).path, r.status]))
    page.goto(url, wait_until="domcontentloaded")
    return page, asked


def test_the_live_page_streams_behind_the_proxy(proxy, chromium):  # noqa: F811
    url, _ = proxy
    page, asked = open_logged(chromium, f"{url}{PREFIX}/?steps=1000&seed=31")
    page.wait_for_function(f"() => ({POINTS})().filter(p => p > 0).length == 2", timeout=90_000)
    first = page.evaluate(POINTS)
    page.wait_for_function(f"() => ({POINTS})()[0] > {first[0]}", timeout=60_000)  # rows keep arriving
    assert exceptions(page) == 0
    ours = [(p, s) for p, s in asked if "/api/" in p]
    assert {p for p, _ in ours} >= {PREFIX + "/api/live", PREFIX + "/api/js/live.js", PREFIX + "/api/js/uplot.js"}
    assert all(s < 400 for _, s in ours), ours
    assert all(p.startswith(PREFIX + "/") for p, _ in asked), [p for p, _ in asked if not p.startswith(PREFIX)]
    page.close()


@pytest.mark.parametrize("path", [p for p in guard.page_paths() if p not in ("/", "/live", "/kiosk")])
def test_every_page_answers_behind_the_proxy(proxy, chromium, path):  # noqa: F811
    url, _ = proxy
    page, asked = open_logged(chromium, url + PREFIX + path)
    page.locator("h1").first.wait_for(timeout=60_000)
    assert exceptions(page) == 0
    assert all(p.startswith(PREFIX + "/") for p, _ in asked), [p for p, _ in asked if not p.startswith(PREFIX)]
    assert all(s < 400 for p, s in asked if "/api/" in p), asked
    page.close()
