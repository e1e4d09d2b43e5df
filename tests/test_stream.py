"""The live page's stream (web.stream), its browser files (web.assets), the page guard (web.guard) and the routes
under a path prefix (web.server), without a browser.

The routes are called as Starlette would call them (a Request built from a query string); the browser's drawing of
what they send is tests/test_live_chart_browser.py's and tests/test_e2e_browser.py's.
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
import urllib.parse

import numpy as np
from starlette.requests import Request

from sharp.experiments import curves, race
from sharp.serve import live_run
from sharp.serve.pool import shared as pool
from web import assets, guard, server, stream

SMALL = race.Settings(d=12, n=72, steps=20, seeds=2, kernel_m=32, feature_m=8, feature_eta=8.0, seed=777)


def request(path: str, query: dict[str, str] | None = None, **path_params: str) -> Request:
    qs = urllib.parse.urlencode(query or {}).encode()
    return Request({"type": "http", "method": "GET", "path": path, "query_string": qs, "headers": [],
                    "path_params": path_params})


def call(settings: race.Settings, **extra) -> tuple[int, dict]:
    """GET /api/live with the settings' URL parameters and the route's own ones."""
    res = asyncio.run(stream.endpoint(request("/api/live", {**race.to_query(settings),
                                                             **{k: str(v) for k, v in extra.items()}})))
    return res.status_code, json.loads(res.body)


def finished(settings: race.Settings, timeout: float = 60) -> live_run.LiveRun:
    """The server's run for settings, kept wanted until its workers finish it (what a playing page does)."""
    entry = pool().get(settings.run_part(), lambda: live_run.LiveRun.start(settings.run_part(), stored=False))
    for _ in range(int(timeout / 0.6)):
        if entry.job.done:
            break
        call(settings, have=entry.job.count, want=1)  # waits up to WAIT_S for a new row
    assert entry.job.done
    return entry.job


def test_rows_are_the_charts_numbers():
    run = live_run.LiveRun.start(SMALL, stored=False)
    run.advance(budget_s=60)
    snaps = run.history["feature"]
    got = np.array(stream.rows(snaps), dtype=float)
    c = curves.curve("feature", snaps, "test_error")
    assert got.shape == (21, 10) and list(got[:, 0]) == list(range(21))
    assert np.allclose(got[:, 1:4], np.stack([c.mean, c.lo, c.hi], 1), rtol=1e-4, atol=1e-9)
    assert np.allclose(got[:, 7], [s.test_error for s in snaps], rtol=1e-4)


def test_the_route_sends_only_what_the_page_lacks_and_records_its_position():
    s = dataclasses.replace(SMALL, seed=778)
    run = finished(s)
    status, body = call(s, have=0, viewer="v1", play=1, neurons=1)
    assert status == 200 and body["done"] and body["upto"] == run.count == 21
    assert [r[0] for r in body["rows"]["kernel"]] == list(range(21))
    assert body["neurons"]["kernel"].startswith("<svg") and body["next_ms"] >= stream.POLL_MS
    assert stream.seen("v1", s.run_part()) == 21 and stream.seen("v1", SMALL.run_part()) is None
    _, later = call(s, have=15)
    assert [r[0] for r in later["rows"]["feature"]] == list(range(15, 21)) and "neurons" not in later
    _, paused = call(s, have=3, until=5)  # a paused page at 5 rows that has 3
    assert paused["upto"] == 5 and [r[0] for r in paused["rows"]["kernel"]] == [3, 4]
    _, logx = call(dataclasses.replace(s, log_x=True), have=21)  # a view setting: the same run
    assert logx["upto"] == 21 and not logx["rows"]["kernel"]


def test_the_route_refuses_settings_the_page_refuses_naming_them():
    status, body = call(dataclasses.replace(SMALL, d=400, n=5000, kernel_m=2048, seeds=8, depth=4))
    assert status == 400 and "too heavy for a live page" in body["error"] and "kernel_m = 2048" in body["error"]
    # a value the URL parser rejects falls back to its default, as on the page (k at most d: k = 2 here)
    assert stream.key_of((("d", "4"), ("k", "6"))) == dataclasses.replace(race.DEFAULTS, d=4)


def test_the_routes_own_parameters_are_read_by_the_one_parser():
    # what the browser's script never sends: each named with its range, as a page's link would be
    for name, text in (("have", "1_000"), ("until", "-1"), ("want", "maybe"), ("neurons", "inf")):
        status, body = call(SMALL, **{name: text})
        assert status == 400 and body["error"].startswith(f"URL parameter {name}=`'{text}'` is not allowed: "), body


def test_a_diverged_column_gets_its_message_in_the_stream():
    s = dataclasses.replace(SMALL, d=50, n=300, feature_m=20, feature_eta=5000.0, steps=30, seed=779)
    finished(s)
    _, body = call(s, have=0)
    assert "Feature learning diverged at step" in body["alerts"]["feature"] and not body["alerts"]["kernel"]
    assert body["rows"]["feature"][-1][9] == 1 and len(body["rows"]["feature"]) < body["upto"]


def test_the_guard_is_first_in_every_pages_html_and_knows_the_broken_tree_error():
    html = guard.index_html()
    head = html.split("<head>", 1)[1]
    assert head.startswith("<script>(") and "__sharpGuard" in head.split("</script>")[0]
    assert re.search(guard.FATAL, "Error: Bad delta path index 7 (should be between [0, 0])")
    assert not re.search(guard.FATAL, "Cannot send rerun backMessage when disconnected from server")
    route = next(r for r in guard.routes() if r.path == "/")
    before = pool()._quiet_until
    req = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []})
    assert asyncio.run(route.endpoint(req)).status_code == 200
    assert pool()._quiet_until > max(before, pool().clock())  # a page being opened holds the background work
    paths = {r.path for r in guard.routes()}
    assert {"/", "/live", "/figure1", "/kiosk"} <= paths and not any(p.startswith("/_stcore") for p in paths)


def svg(settings: race.Settings, **extra):
    """GET /api/live.svg: the response."""
    return asyncio.run(stream.svg_endpoint(request("/api/live.svg", {**race.to_query(settings),
                                                                      **{k: str(v) for k, v in extra.items()}})))


def test_a_chart_downloads_as_svg_as_far_as_the_page_shows_it():
    s = dataclasses.replace(SMALL, seed=780)
    finished(s)
    res = svg(s, chart="error", upto=6)
    text = res.body.decode()
    assert res.status_code == 200 and res.media_type == "image/svg+xml"
    assert 'filename="sharp-live-error.svg"' in res.headers["content-disposition"]
    assert text.startswith("<svg") and 'data-chart="live-error"' in text
    assert 'data-points="12"' in text  # 6 logged steps of each regime
    assert "kernel regime" in text and "feature learning" in text and "at step 5" in text  # its text alternative
    logx = svg(dataclasses.replace(s, log_x=True), chart="distance").body.decode()
    assert 'data-chart="live-distance"' in logx and "SGD step (log scale)" in logx and 'data-points="40"' in logx
    assert svg(s, chart="nonsense").status_code == 404
    assert svg(dataclasses.replace(s, seed=781), chart="error").status_code == 404  # a run this server does not hold
    assert svg(dataclasses.replace(SMALL, d=400, n=5000, kernel_m=2048, seeds=8, depth=4)).status_code == 400


def test_the_browser_files_are_served_versioned_and_nothing_else():
    for name in assets.FILES:
        url = assets.url(name)
        assert url.startswith("api/js/" + name + "?v=")  # relative: resolved against the page's own address
        res = asyncio.run(assets.routes()[0].endpoint(request("/" + url.split("?")[0], name=name)))
        assert res.status_code == 200 and res.body == assets.FILES[name].read_bytes()
        assert "max-age" in res.headers["cache-control"]
    assert "javascript" in asyncio.run(assets.routes()[0].endpoint(request("/", name="uplot.js"))).media_type
    for name in ("../server.py", "guard.js", "narrow.css"):
        assert asyncio.run(assets.routes()[0].endpoint(request("/", name=name))).status_code == 404


def test_the_charting_library_is_vendored_pinned_and_licensed():
    folder = assets.STATIC / "vendor" / "uplot"
    script = (folder / "uPlot.iife.min.js").read_bytes()
    readme = (assets.STATIC / "vendor" / "README.md").read_text()
    assert script.startswith(b"/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    assert "| 1.6.32 |" in readme and hashlib.sha256(script).hexdigest() in readme
    assert "MIT License" in (folder / "LICENSE").read_text()


def test_every_route_moves_under_the_path_prefix():
    plain = [r.path for r in server.routes("")]
    assert {"/api/live", "/api/live.svg", "/api/js/{name}", "/api/status", "/", "/live", "/figure1"} <= set(plain)
    prefixed = [r.path for r in server.routes("demo/sharp")]
    assert prefixed == ["/demo/sharp" + p for p in plain]
    assert [r.path for r in server.routes("/demo/sharp/")] == prefixed  # as Streamlit takes it, with or without slashes
    page = server.routes("demo/sharp")[prefixed.index("/demo/sharp/figure1")]
    assert page.matches({"type": "http", "path": "/demo/sharp/figure1", "method": "GET"})[0].name == "FULL"
