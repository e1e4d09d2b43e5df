"""A classroom and a booth on one small server: many real browser sessions at once against one app server.

- 30 sessions, 20 on the default settings and 10 each with its own d (11 distinct runs): each one ends with its
  own settings (in the URL and in its widgets), its run finished, no white page, no exception, and the health
  endpoint answers within 1 s throughout; the server's CPU for them is recorded against one session's.
- Server CPU for 8 identical sessions at most 3 times that of one session (from /proc).
- Resident memory after the sessions close within 100 MB of its level before they opened.
- A soak: one session replaying runs for a while ($SHARP_SOAK_S, 150 s by default), memory recorded.

Loopback only; every wait below is bounded in count and time. The figures are printed and written to
artifacts/load.json and artifacts/soak.json (docs/serving.md, "Serving a classroom", quotes them).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    SERVERS,
    cpu_s,
    exceptions,
    launch_niced,
    missing,
    rss_mb,
    serve,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEW = {"width": 1280, "height": 900}
STEPS = 120  # short runs: the test is about many sessions, not long ones
# Each session's own settings as its page shows them: the URL's, and the sliders' values (the sidebar's d,
# k, n, depth, steps, seeds, then the columns' widths), read from their aria attributes.
STATE = """() => ({url: location.href,
  sliders: Array.from(document.querySelectorAll('[role="slider"]')).map(e => +e.getAttribute('aria-valuenow')),
  replay: Array.from(document.querySelectorAll('button')).some(b => b.innerText.includes('Replay')),
  points: Array.from(document.querySelectorAll('[data-chart^="live-"]')).map(e => +e.dataset.points),
  reloads: JSON.parse(sessionStorage.getItem('sharpReloads') || '[]').length,
  why: sessionStorage.getItem('sharpReloadWhy'),
  text: ((document.getElementById('root') || document.body).innerText || '').trim().length})"""


# The poller, run as a process of its own: at most LIMIT seconds, one request every EVERY seconds.
POLL = """import sys, time, urllib.request
base, every, limit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
while time.monotonic() - start < limit:
    t = time.monotonic()
    try:
        urllib.request.urlopen(base + "/_stcore/health", timeout=5).read()
        took = time.monotonic() - t
    except OSError:
        took = 5.0
    print(f"{took:.4f}", flush=True)
    time.sleep(every)
"""


class Health:
    """Polls the health endpoint every 0.25 s until stopped; keeps every answer time.

    From a process of its own, as a visitor's browser would: not from a thread of this test process, whose
    interpreter lock it would share with Playwright's driver (both ways gave the same figures when compared).
    """

    def __init__(self, base: str, limit: float = 600):
        self.base, self.limit, self.times = base, limit, []

    def __enter__(self) -> Health:
        self.proc = subprocess.Popen([sys.executable, "-c", POLL, self.base, "0.25", str(self.limit)],
                                     stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        self.times = [float(x) for x in out.split()] or [5.0]


BROWSER_NICE = 19  # the browsers stand in for the visitors' own machines: on this one they yield to the server
AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def autogroups_on() -> bool:
    """Whether the kernel shares the CPU between sessions first (autogroup), and only then by nice value."""
    try:
        return AUTOGROUP.read_text().strip() == "1"
    except OSError:
        return False


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """Headless Chromium at the lowest CPU priority (a wrapper sets it): in a classroom the 30 browsers run on
    30 laptops, here they share the server's 2 cores, and what is measured is the server's responsiveness,
    not a contest for the cores with its own visitors' renderers."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    with sync_playwright() as pw:
        browser = launch_niced(pw, tmp_path_factory.mktemp("chromium"), BROWSER_NICE)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(chromium):
    yield from warm_server(chromium)


def warm_server(chromium, **env: str):
    """A server on an empty cache with no paper-page warm-up, visited once to the end; yields its address."""
    with tempfile.TemporaryDirectory() as cache, serve(
            env={"SHARP_CACHE_DIR": cache, "SHARP_WARM": "0", **env}) as base:
        warm_up(chromium, base)
        yield base


def settings_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(url).query).items()}


CONSOLE: dict[int, list[str]] = {}  # id(page) -> its last console errors and page errors, for the record


def open_sessions(browser, base: str, links: list[str]) -> list:
    """One browser context (a separate visitor) per link, opened without waiting for each to load."""
    pages = []
    for link in links:
        page = browser.new_context(viewport=VIEW).new_page()
        log = CONSOLE.setdefault(id(page), [])
        page.on("console", lambda m, log=log: m.type == "error" and log.append(f"{m.type}: {m.text[:160]}"))
        page.on("pageerror", lambda e, log=log: log.append(f"page error: {str(e)[:300]}"))
        page.goto(base + link, wait_until="commit")
        pages.append(page)
    return pages


def close_sessions(pages: list) -> None:
    for page in pages:
        page.context.close()


def finished(state: dict) -> bool:
    """A page shows its finished run: the Replay button, and its curve charts drawn with points. (The button comes
    with the page's script rerun, the charts a moment later from the browser's script: both must be there.)"""
    return state["replay"] and min(state["points"], default=0) > 0


def until_finished(pages: list, timeout: float, check=None) -> list[dict]:
    """Poll every page about once a second until each shows its finished run (`finished`); returns their states."""
    deadline, states = time.monotonic() + timeout, [{}] * len(pages)
    while time.monotonic() < deadline:
        states = [page.evaluate(STATE) for page in pages]
        if check is not None:
            check(states)
        if all(map(finished, states)):
            break
        time.sleep(1.0)
    return states


def warm_up(browser, base: str) -> None:
    """One visit that runs to the end, so torch is loaded and the page compiled before anything is measured."""
    pages = open_sessions(browser, base, [f"/?steps={STEPS}&seed=999"])
    until_finished(pages, 120)
    close_sessions(pages)


def descends_from(pid: str, ancestor: int) -> bool:
    """Whether process pid is ancestor or one of its descendants (bounded walk up the parent chain)."""
    for _ in range(64):
        if int(pid) == ancestor:
            return True
        stat = open(f"/proc/{pid}/stat").read()
        pid = stat[stat.rindex(")") + 2:].split()[1]
        if pid in ("0", "1"):
            return False
    return False


def browser_priority() -> tuple[int, int | None]:
    """The lowest nice value among the threads of this test's Chromium processes (descendants of this
    process: another program's browser on the same machine is not this test's), and the lowest nice value
    of their sessions' autogroups (None without autogroup scheduling): what the kernel uses."""
    lowest, group, seen = 20, 20 if autogroups_on() else None, 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if not os.path.basename(os.readlink(f"/proc/{pid}/exe")).startswith("chromium"):
                continue
            if not descends_from(pid, os.getpid()):
                continue
            if group is not None:  # "/autogroup-1143 nice 19"
                group = min(group, int(open(f"/proc/{pid}/autogroup").read().split()[-1]))
            for tid in os.listdir(f"/proc/{pid}/task"):
                stat = open(f"/proc/{pid}/task/{tid}/stat").read()
                lowest = min(lowest, int(stat[stat.rindex(")") + 2:].split()[16]))
                seen += 1
        except OSError:  # gone meanwhile, or not ours to read
            continue
    assert seen, "no thread of this test's Chromium was found under /proc"
    return lowest, group


def settle_rss(pid: int, target: float, timeout: float) -> float:
    """The server's RSS once it is within target MB, or after timeout (sampled every 2 s)."""
    deadline = time.monotonic() + timeout
    while (now := rss_mb(pid)) > target and time.monotonic() < deadline:
        time.sleep(2)
    return now


def record(name: str, figures: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **figures}, indent=2))
    print(json.dumps(figures, indent=2))


def one_session_cpu_s(browser, base: str, seed: int) -> float:
    """The server's CPU seconds for one visitor's run of STEPS steps, opened to finished (a new run)."""
    pid = SERVERS[base].pid
    c0 = cpu_s(pid)
    pages = open_sessions(browser, base, [f"/?steps={STEPS}&seed={seed}"])
    until_finished(pages, 120)
    close_sessions(pages)
    return cpu_s(pid) - c0


def test_thirty_sessions_keep_their_own_settings_and_the_server_stays_responsive(server, chromium):
    pid = SERVERS[server].pid
    one_cpu = one_session_cpu_s(chromium, server, seed=301)
    rss_before = rss_mb(pid)
    # twenty visitors on the bare link's settings, ten on their own d (11 distinct runs); short runs
    links = [f"/?steps={STEPS}"] * 20 + [f"/?d={30 + i}&steps={STEPS}" for i in range(10)]
    want_d = [50] * 20 + [30 + i for i in range(10)]
    lost: dict[int, str] = {}

    def check(states: list[dict]) -> None:  # at every poll, not only at the end
        for i, s in enumerate(states):
            q = settings_of(s["url"])
            if "seeds" in q and (q.get("d") != str(want_d[i]) or q.get("steps") != str(STEPS)):
                lost.setdefault(i, f"URL {s['url']}")
            if len(s["sliders"]) >= 6 and (s["sliders"][0] != want_d[i] or STEPS not in s["sliders"]):
                lost.setdefault(i, f"sliders {s['sliders']}")

    t0, c0 = time.monotonic(), cpu_s(pid)
    with Health(server) as health:
        pages = open_sessions(chromium, server, links)
        states = until_finished(pages, 420, check)
        took, cpu = time.monotonic() - t0, cpu_s(pid) - c0
        errors = sum(exceptions(p) for p in pages)
        nice, group_nice = browser_priority()
        for i, (page, st) in enumerate(zip(pages, states)):  # what an unfinished session shows, for the record
            if not st["replay"] or not st["text"]:
                page.screenshot(path=str(ARTIFACTS / f"load-unfinished-{i}.png"), full_page=True)
    console = {i: CONSOLE.get(id(p), [])[-5:] for i, (p, st) in enumerate(zip(pages, states))
               if st.get("reloads") or not st["replay"]}
    close_sessions(pages)
    rss_peak = rss_mb(pid)
    rss_after = settle_rss(pid, rss_before + 50, 150)
    figures = {"sessions": len(links), "finished": sum(s["replay"] for s in states),
               "seconds_to_finish": round(took, 1), "health_max_s": round(max(health.times), 3),
               "health_median_s": round(statistics.median(health.times), 4),
               "health_polls": len(health.times), "health_over_half_s": sum(t > 0.5 for t in health.times),
               "health_slowest_five_s": sorted(round(t, 3) for t in health.times)[-5:],
               "rss_before_mb": round(rss_before), "rss_peak_mb": round(rss_peak),
               "rss_after_close_mb": round(rss_after), "lost_settings": lost,
               "unfinished": {i: s["url"].split("?")[-1][:60] for i, s in enumerate(states) if not s["replay"]},
               "charts_without_points": [i for i, s in enumerate(states) if s["replay"] and not finished(s)],
               "slowest_health_at_s": round(health.times.index(max(health.times)) * 0.25, 1),
               "browser_nice_lowest": nice, "browser_group_nice": group_nice,
               "white": [i for i, s in enumerate(states) if not s["text"]],
               "reloaded": {i: (s["why"] or "")[:80] for i, s in enumerate(states) if s.get("reloads")},
               "console_of_reloaded_or_unfinished": console,
               "server_cpu_s": round(cpu, 2), "one_session_cpu_s": round(one_cpu, 2),
               "cpu_ratio_to_one_session": round(cpu / max(one_cpu, 1e-9), 2)}
    record("load.json", {"thirty_sessions": figures})
    assert not lost, f"sessions lost their settings: {lost}"
    assert not figures["white"], f"white pages at the end: {figures['white']}"
    assert all(s["replay"] for s in states), f"not every session's run finished within 420 s: {figures['unfinished']}"
    assert all(map(finished, states)), f"charts without points: {[(i, s['points']) for i, s in enumerate(states)]}"
    assert errors == 0, f"{errors} exception(s) on the pages"
    # The browsers stand in for laptops: they must not have out-prioritized the server (see the fixture).
    assert nice >= BROWSER_NICE, f"a browser thread ran at nice {nice}, not {BROWSER_NICE}"
    assert group_nice in (None, BROWSER_NICE), f"the browsers' autogroup ran at nice {group_nice}, not {BROWSER_NICE}"
    # The issue's target: every answer within 1 s. Measured 0.07 to 0.12 s since the browsers' session is niced
    # too (see the chromium fixture); 0.29 to 1.26 s before, when it shared the CPU equally with the server's.
    assert max(health.times) < 1.0, f"the health endpoint took {max(health.times):.2f} s"
    assert rss_after - rss_before < 100, f"memory did not come back: {rss_before:.0f} -> {rss_after:.0f} MB"


def test_identical_sessions_share_one_run(server, chromium):
    pid = SERVERS[server].pid
    cost = {}
    for n, seed in ((1, 101), (8, 102)):  # a fresh seed each: the second group cannot reuse the first's run
        c0, t0 = cpu_s(pid), time.monotonic()
        pages = open_sessions(chromium, server, [f"/?steps=300&seed={seed}"] * n)
        states = until_finished(pages, 240)
        cost[n] = dict(cpu_s=round(cpu_s(pid) - c0, 2), seconds=round(time.monotonic() - t0, 1),
                       finished=sum(s["replay"] for s in states),
                       reloaded=sum(s.get("reloads", 0) for s in states))  # pages that went blank (scripts.py)
        for i, (page, st) in enumerate(zip(pages, states)):  # what an unfinished session shows, for the record
            if st.get("reloads"):  # it went blank and came back: what its console said
                cost[n].setdefault("reloaded_console", {})[i] = CONSOLE.get(id(page), [])[-10:]
            if not st["replay"]:
                cost[n].setdefault("unfinished", {})[i] = {
                    "points": st["points"], "url": st["url"][-60:], "console": CONSOLE.get(id(page), [])[-10:],
                    "text": page.evaluate("document.body.innerText.slice(0, 200)")}
                page.screenshot(path=str(ARTIFACTS / f"identical-unfinished-{n}-{i}.png"), full_page=True)
        close_sessions(pages)
        time.sleep(2)
    ratio = cost[8]["cpu_s"] / cost[1]["cpu_s"]
    record("load.json", {"identical_sessions": {**{f"{n}_sessions": v for n, v in cost.items()},
                                                "cpu_ratio_8_to_1": round(ratio, 2)}})
    assert cost[1]["finished"] == 1 and cost[8]["finished"] == 8
    assert ratio <= 3.0, f"8 identical sessions cost {ratio:.1f} times the server CPU of one"


SOAK_BUDGET_MB = 4  # the soak's server keeps about 4 finished runs, so it reaches its steady state within a minute


@pytest.fixture(scope="module")
def soak_server(chromium):
    """A server of its own whose run budget fills early: what grows after that is creep, not the cache filling."""
    yield from warm_server(chromium, SHARP_MEMORY_MB=str(SOAK_BUDGET_MB))


def test_soak_one_session_replaying(soak_server, chromium):
    duration = float(os.environ.get("SHARP_SOAK_S", "150"))
    pid = SERVERS[soak_server].pid
    page = open_sessions(chromium, soak_server, [f"/?steps={STEPS}&seed=500"])[0]
    until_finished([page], 120)
    samples, replays, resets, t0 = [], 0, 0, time.monotonic()
    next_sample = t0
    while time.monotonic() - t0 < duration:
        if time.monotonic() >= next_sample:
            samples.append((round(time.monotonic() - t0), round(rss_mb(pid), 1)))
            next_sample += 10
        if page.evaluate(STATE)["replay"]:
            if replays % 3 == 2:  # every third time new seeds: a new run to train, an old one to let go
                page.get_by_role("button", name="Reset").click()
                resets += 1
            else:
                page.get_by_role("button", name="Replay").click()
            replays += 1
        time.sleep(1.0)
    samples.append((round(time.monotonic() - t0), round(rss_mb(pid), 1)))
    errors = exceptions(page)
    close_sessions([page])
    growth = samples[-1][1] - samples[0][1]
    # Creep: the last third of the samples against the middle third, by their medians (a single sample can be
    # 30 MB above its neighbours while a run trains). By the middle third the budget has filled (about one new
    # run every 16 s, at most SOAK_BUDGET_MB of them kept).
    third = len(samples) // 3
    creep = (statistics.median(r for _, r in samples[-third:]) - statistics.median(r for _, r in samples[third:-third]))
    record("soak.json", {"seconds": round(duration), "replays": replays, "resets": resets, "budget_mb": SOAK_BUDGET_MB,
                         "rss_mb": samples, "growth_mb": round(growth, 1), "creep_mb": round(creep, 1)})
    assert replays >= 3 and errors == 0
    assert growth < 60, f"memory grew by {growth:.0f} MB over {duration:.0f} s"
    assert creep < 20, f"memory crept by {creep:.0f} MB from the middle third of the soak to the last"
