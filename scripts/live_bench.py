"""Live page benchmark: what one default session costs the server, and what its visitor sees.

For each checkout given (default: this one), a fresh server (empty run cache; the paper pages' warm-up off, or
on with `--warm on`, or each in turn with `--warm both`) and a headless Chromium whose session group runs at the
lowest CPU priority (the browsers stand in for visitors' own machines, as in tests/test_load.py). Then `--runs`
visits one after another, each on new seeds (a run that trains), each to the end of its run. Per visit it prints:

  shell_s         from opening the link to Streamlit's page frame (its sidebar) drawn: the part of the first
                  points that is the browser loading Streamlit's frontend, before any of sharp's work
  first_points_s  from opening the link to the test error chart with points (the browser's clock; the first
                  visit is a freshly started server's first visitor)
  browser_ms_per_redraw  the browser's CPU time (all its processes, /proc: the page's scripts, style, layout
                  and paint, Streamlit's included) from the first points to the run's end, per redraw
  redraws_per_s   changes of the test error chart's points while streaming, counted in the page on every
                  animation frame (a JS counter), over the span from the first to the last change (the chart is
                  data-chart="live-error"; a checkout from before it, whose kernel column had its own chart,
                  "curves-kernel", is measured on that one)
  server_cpu_s    the server process's CPU seconds (user + system, /proc/<pid>/stat) from opening the link to
                  one second after the run finished (the Replay button)
  training_cpu_s  of which the training workers' threads (those running at a lower priority than the server's
                  own, `SHARP_NICE`, with the torch threads they started): what the run costs whatever
                  the page does
  serving_cpu_s   the rest: the page's script runs, Streamlit's messages, the stream's answers
  seconds         opening to finished

Then, in the same browser, the floor under first points: a bare Streamlit page (a sidebar line and one line of
text, no sharp) served the same way, `--runs` visits: from opening its link to its text drawn. That is what
Streamlit's frontend costs this browser on this machine before any page's own work.

With `--warm both`, each checkout's server is started twice, warm-up off then on (the visits then open while
the warm-up computes every page's default on the empty cache, as on a freshly started server), and the summary
gives the ratio of the median seconds to finish, on over off (target: at most 1.15).

Usage (from the repository root, under the heavy lock):
  PYTHONPATH=$PWD .venv/bin/python scripts/live_bench.py [--root OTHER_CHECKOUT ...] [--runs 3] [--query steps=2000]
      [--warm off|on|both]
With `--query`, each visit's link also carries those settings: the default run trains in well under a second
on an idle 2-core machine, so its redraw rate says little; a long run (steps=2000&n=600) streams for seconds.
Targets: server CPU at most 2 s, at least 10 redraws a second, first points within 1 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))
from browser_support import cpu_s, descendants_cpu_s, free_port, launch_niced, serve, stop  # noqa: E402

COUNTER = """(() => {
  const b = window.__bench = {changes: [], last: null, shell: null};
  const loop = () => {
    const e = document.querySelector('[data-chart="curves-kernel"], [data-chart="live-error"]');
    const p = e ? e.getAttribute('data-points') : null;
    if (b.shell === null && document.querySelector('[data-testid="stSidebar"]')) b.shell = performance.now();
    if (p !== b.last) { b.last = p; if (p && +p > 0) b.changes.push(performance.now()); }
    requestAnimationFrame(loop);
  };
  loop();
})()"""
DONE = "() => Array.from(document.querySelectorAll('button')).some(b => b.innerText.includes('Replay'))"


def threads(pid: int) -> dict[int, tuple[float, int]]:
    """Per thread of the process: (CPU seconds, nice value), from /proc/<pid>/task/<tid>/stat."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            f = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        out[int(tid)] = ((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"), int(f[16]))
    return out


def training_cpu(before: dict, after: dict, base_nice: int) -> float:
    """CPU seconds between two `threads` readings of the threads running below the server's own priority."""
    return sum(cpu - before.get(tid, (0.0, 0))[0] for tid, (cpu, nice) in after.items() if nice > base_nice)


def start(root: Path, cache: str, warm: bool = False) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` in root, ready (its /api/status says so, else its health endpoint)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(root), "SHARP_CACHE_DIR": cache, "SHARP_WARM": "1" if warm else "0"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if json.loads(urllib.request.urlopen(base + "/api/status", timeout=2).read()).get("ready"):
                return proc, base
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the server in {root} did not start")


def visit(browser, base: str, pid: int, seed: int, query: str = "") -> dict:
    page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    page.add_init_script(COUNTER)
    base_nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    c0, t0, th0 = cpu_s(pid), time.monotonic(), threads(pid)
    page.goto(f"{base}/?seed={seed}" + (f"&{query}" if query else ""), wait_until="commit")
    page.wait_for_function("() => window.__bench.changes.length > 0", timeout=240_000, polling=50)
    busy0, n0 = descendants_cpu_s(pid), page.evaluate("window.__bench.changes.length")
    page.wait_for_function(DONE, timeout=240_000, polling=200)
    seconds = time.monotonic() - t0
    busy, n1 = descendants_cpu_s(pid) - busy0, page.evaluate("window.__bench.changes.length")
    page.wait_for_timeout(1000)
    cpu, train = cpu_s(pid) - c0, training_cpu(th0, threads(pid), base_nice)
    changes, shell = page.evaluate("[window.__bench.changes, window.__bench.shell]")
    page.context.close()
    span = (changes[-1] - changes[0]) / 1000 if len(changes) > 1 else 0.0
    return {"shell_s": round(shell / 1000, 2) if shell else None,
            "first_points_s": round(changes[0] / 1000, 2) if changes else None,
            "redraws_per_s": round((len(changes) - 1) / span, 1) if span else 0.0,
            "browser_ms_per_redraw": round(1000 * busy / (n1 - n0), 1) if n1 > n0 else None,
            "server_cpu_s": round(cpu, 2), "training_cpu_s": round(train, 2), "serving_cpu_s": round(cpu - train, 2),
            "seconds": round(seconds, 1), "redraws": len(changes)}


def bench(root: Path, runs: int, browser, seed0: int, query: str = "", warm: bool = False) -> list[dict]:
    with tempfile.TemporaryDirectory() as cache:
        proc, base = start(root, cache, warm)
        try:
            return [visit(browser, base, proc.pid, seed0 + i, query) for i in range(runs)]
        finally:
            stop(proc)


BARE = 'import streamlit as st\nst.sidebar.write("sidebar")\nst.write("bare page")\n'


def floor(browser, runs: int) -> list[float]:
    """Seconds from opening a bare Streamlit page's link to its text, `runs` visits (fresh contexts)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bare.py").write_text(BARE)
        with serve(str(Path(tmp, "bare.py"))) as base:
            for _ in range(runs):
                page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
                t0 = time.monotonic()
                page.goto(base + "/", wait_until="commit")
                page.get_by_text("bare page").wait_for(timeout=60_000)
                out.append(round(time.monotonic() - t0, 2))
                page.context.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", action="append", type=Path, help="a checkout to measure (repeatable; default: this one)")
    ap.add_argument("--runs", type=int, default=3, help="visits per checkout, one after another (default 3)")
    ap.add_argument("--query", default="", help="settings added to each visit's link, e.g. steps=2000&n=600")
    ap.add_argument("--warm", choices=("off", "on", "both"), default="off",
                    help="the server's warm-up of the paper pages during the visits (default off)")
    a = ap.parse_args()
    modes = {"off": [False], "on": [True], "both": [False, True]}[a.warm]
    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = launch_niced(pw, Path(tmp), 19)  # its session group at nice 19 too, as tests/test_load.py's
        for i, root in enumerate(a.root or [HERE]):
            for warm in modes:
                name = str(root.resolve()) + (" (warm-up on)" if warm else "")
                load = os.getloadavg()[0]
                results[name] = bench(root.resolve(), a.runs, browser,
                                      int(time.time()) % 100_000 * 10 + 100 * i + 50 * warm, a.query, warm)
                for r in results[name]:
                    print(json.dumps({"root": name, "load_before": round(load, 1), **r}), flush=True)
        bare = floor(browser, a.runs)
        print(json.dumps({"bare_streamlit_page_s": bare}), flush=True)
        browser.close()
    print("\nroot: median server CPU s (training + serving) | redraws/s | browser ms per redraw | first points s "
          "(fresh server, first visit) | page frame s, median")
    for name, rs in results.items():
        print(f"{name}: {statistics.median(r['server_cpu_s'] for r in rs):.2f} "
              f"({statistics.median(r['training_cpu_s'] for r in rs):.2f} + "
              f"{statistics.median(r['serving_cpu_s'] for r in rs):.2f}) | "
              f"{statistics.median(r['redraws_per_s'] for r in rs):.1f} | "
              f"{statistics.median(r['browser_ms_per_redraw'] or 0 for r in rs):.1f} | {rs[0]['first_points_s']} "
              f"(later: {[r['first_points_s'] for r in rs[1:]]}) | "
              f"{statistics.median(r['shell_s'] or 0 for r in rs):.2f}")
    print(f"a bare Streamlit page, opening to its text, same browser: median {statistics.median(bare):.2f} s {bare}")
    for name, rs in results.items():
        if name.endswith(" (warm-up on)") and (off := results.get(name.removesuffix(" (warm-up on)"))):
            on_s, off_s = statistics.median(r["seconds"] for r in rs), statistics.median(r["seconds"] for r in off)
            print(f"{name.removesuffix(' (warm-up on)')}: seconds to finish, warm-up on {[r['seconds'] for r in rs]} "
                  f"against off {[r['seconds'] for r in off]}: median ratio {on_s / off_s:.2f} (target <= 1.15)")
    print(f"load average now {os.getloadavg()}")


if __name__ == "__main__":
    main()
