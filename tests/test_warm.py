"""The warm-up (sharp.serve.warm): each default computed once, joining a visitor's job rather than duplicating it,
started once per process, and its subprocess giving the numbers the page itself computes."""
import dataclasses
import json
import threading

import pandas as pd
import pytest
from test_jobs import DEADLINE, counting

from sharp.engine import store as cache
from sharp.experiments import FIG1, WARM
from sharp.serve import jobs, warm


def tiny(exp, **values):
    return dataclasses.replace(exp, defaults={**exp.defaults, **values})


class Asked:
    """The registry, recording each job the warm-up asked it for: what a test waits on instead of sleeping."""

    def __init__(self, registry: jobs.Registry):
        self.registry, self.jobs, self.cond = registry, [], threading.Condition()

    def submit(self, key, fn, who=None, warm=False):
        job = self.registry.submit(key, fn, who, warm)
        with self.cond:
            self.jobs.append(job)
            self.cond.notify_all()
        return job

    def wait_for(self, n: int) -> list[jobs.Job]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.jobs) >= n, DEADLINE), f"the warm-up asked for {self.jobs}"
            return list(self.jobs)


def test_warm_up_computes_each_default_once_and_joins_a_visitors_job():
    reg, started = jobs.Registry(), []
    a, b = tiny(FIG1, d=[25]), dataclasses.replace(tiny(FIG1, d=[50]), page="other")
    gate = threading.Event()
    visitor = reg.submit(b.key(), counting(gate=gate), "alice")  # a visitor got there first

    def runner(page, settings):
        inner = counting()

        def run(on_progress, cancel):  # called only when a job is really started
            started.append((page, json.dumps(settings, sort_keys=True)))
            return inner(on_progress, cancel)
        return run
    asked = Asked(reg)
    t = warm.warm_up([a, b], asked, runner)
    assert asked.wait_for(2)[1] is visitor  # a done, b asked for while the visitor's job still runs
    gate.set()
    t.join(DEADLINE)
    assert not t.is_alive()
    assert started == [("fig1", json.dumps(a.settings(), sort_keys=True))]  # b was the visitor's: not started again
    assert reg.get(a.key()).warm and reg.get(a.key()).state == "done" and visitor.state == "done"


def test_warm_up_restarts_a_default_whose_visitor_cancelled_it():
    reg, gate = jobs.Registry(), threading.Event()
    exp = tiny(FIG1, d=[25])
    visitor = reg.submit(exp.key(), counting(steps=100, pause=0.01, gate=gate), "alice")
    asked = Asked(reg)
    t = warm.warm_up([exp], asked, lambda page, settings: counting())
    assert asked.wait_for(1)[0] is visitor  # the warm-up waits on the visitor's job...
    visitor.leave("alice")  # ...which its visitor then cancels
    gate.set()
    t.join(DEADLINE)
    assert visitor.state == "cancelled"
    assert reg.get(exp.key()).warm and reg.get(exp.key()).state == "done" and reg.started[exp.key()] == 2


@pytest.mark.slow
def test_subprocess_warm_up_fills_the_cache_and_matches_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    settings = {"d": [25, 50], "seeds": 2, "steps": 5, "m": 20}
    lines = []
    frame = warm.subprocess_runner("fig1", settings)(on_progress=lambda d, t, m: lines.append((d, t, m)),
                                                     cancel=lambda: False)
    assert lines and lines[-1][2].startswith("[2/2]") and lines[-1][0] == pytest.approx(lines[-1][1])
    assert len(list((tmp_path / "cache").glob("*/*.parquet"))) == 2  # both runs are on disk for the page
    again = FIG1.run(settings)  # the page's own call: every run from the cache, the same numbers
    pd.testing.assert_frame_equal(frame, again)
    # a restarted server: everything is on disk, so the warm-up reads it in-process (no subprocess)
    monkeypatch.setattr(warm.subprocess, "Popen", None)
    pd.testing.assert_frame_equal(warm.subprocess_runner("fig1", settings)(on_progress=lambda *a: None,
                                                                          cancel=lambda: False), frame)


def test_warm_up_starts_once_per_process_with_the_pages_asked_for(monkeypatch):
    calls, also = [], []
    monkeypatch.setattr(warm, "_warm_thread", None)
    monkeypatch.setattr(warm, "warm_up", lambda experiments: calls.append([e.page for e in experiments]) or "thread")
    monkeypatch.setenv(warm.WARM_ENV, "0")
    assert not warm.warm_up_once(WARM) and calls == []  # off
    monkeypatch.setenv(warm.WARM_ENV, "1")
    monkeypatch.setenv(warm.PAGES_ENV, "samples, nope,fig1")
    done = threading.Event()
    assert warm.warm_up_once(WARM, also=done.set) and warm.warm_up_once(WARM, also=also.append)
    assert calls == [["samples", "fig1"]] and done.wait(DEADLINE) and also == []  # the second call started nothing
