"""The server-wide sweep registry (sharp.jobs): one job per key, shared, cancelled only when nobody waits,
bounded in memory; and the warm-up, which computes each default figure once without duplicating a visitor's."""
import dataclasses
import json
import threading
import time

import pandas as pd
import pytest

from sharp import cache, jobs
from sharp.experiments import EXPERIMENTS, FIG1, WARM, job_key
from sharp.sweep import Cancelled

DEADLINE = 30  # seconds any wait in these tests may take (generous: the machine is shared)


def counting(steps: int = 3, pause: float = 0.0, calls: list | None = None, gate: threading.Event | None = None):
    """A Runner doing `steps` steps (reporting progress, honouring cancel), optionally held at a gate."""
    def run(on_progress, cancel):
        if calls is not None:
            calls.append(1)
        for i in range(steps):
            if gate is not None:
                assert gate.wait(DEADLINE)
            time.sleep(pause)
            on_progress(i + 1, steps, f"[{i + 1}/{steps}] step done")
            if cancel():
                raise Cancelled(pd.DataFrame())
        return pd.DataFrame({"x": range(steps)})
    return run


def test_same_key_is_computed_once_and_shared_by_every_asker():
    reg, calls, gate = jobs.Registry(workers=2), [], threading.Event()
    got = []
    threads = [threading.Thread(target=lambda i=i: got.append(reg.submit("p:{}", counting(calls=calls, gate=gate),
                                                                          f"s{i}")))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    gate.set()
    assert len({id(j) for j in got}) == 1 and got[0].wait(DEADLINE)
    assert calls == [1] and reg.started["p:{}"] == 1
    assert got[0].state == "done" and got[0].result.x.tolist() == [0, 1, 2]
    assert reg.submit("p:{}", counting(calls=calls), "late") is got[0] and calls == [1]  # kept: no recompute
    assert got[0].status().runs_done == 3 and got[0].status().runs_total == 3


def test_a_visitor_leaving_stops_the_job_only_when_nobody_else_waits():
    reg, gate = jobs.Registry(), threading.Event()
    job = reg.submit("p:a", counting(steps=50, pause=0.01, gate=gate), "alice")
    assert reg.submit("p:a", counting(), "bob") is job
    job.leave("alice")
    assert not job.stopping
    gate.set()
    time.sleep(0.1)
    job.leave("bob")
    assert job.wait(DEADLINE) and job.state == "cancelled"
    assert reg.get("p:a") is None  # forgotten: the next visitor starts afresh
    again = reg.submit("p:a", counting(), "carol")
    assert again is not job and again.wait(DEADLINE) and again.state == "done"


def test_a_warm_up_job_keeps_going_when_its_visitors_leave():
    reg, gate = jobs.Registry(), threading.Event()
    job = reg.submit("p:w", counting(gate=gate), warm=True)
    assert reg.submit("p:w", counting(), "alice") is job
    job.leave("alice")
    gate.set()
    assert job.wait(DEADLINE) and job.state == "done"


def test_a_job_nobody_looks_at_stops_by_itself():
    reg = jobs.Registry(abandon_s=0.2)
    job = reg.submit("p:gone", counting(steps=1000, pause=0.01), "alice")  # alice never polls again
    assert job.wait(DEADLINE) and job.state == "cancelled"
    assert job.status().runs_done < 1000


def test_queued_jobs_wait_their_turn_and_say_how_many_are_ahead():
    reg, gate = jobs.Registry(workers=1), threading.Event()
    first = reg.submit("p:1", counting(gate=gate), "a")
    second = reg.submit("p:2", counting(), "b")
    third = reg.submit("p:3", counting(), "c")
    time.sleep(0.2)
    assert first.status().state == "running"
    assert (second.status().state, second.status().ahead) == ("queued", 1)  # behind the running one
    assert (third.status().state, third.status().ahead) == ("queued", 2)
    gate.set()
    assert all(j.wait(DEADLINE) and j.state == "done" for j in (first, second, third))


def test_a_failure_is_reported_and_not_kept():
    reg = jobs.Registry()

    def boom(on_progress, cancel):
        raise ValueError("d must be at least 4")
    job = reg.submit("p:bad", boom, "a")
    assert job.wait(DEADLINE) and job.state == "failed" and "at least 4" in str(job.error)
    assert reg.get("p:bad") is None


def test_finished_frames_stay_within_the_count_and_byte_budget():
    reg = jobs.Registry(max_bytes=10_000, max_results=3)
    for i in range(6):
        reg.submit(f"p:{i}", lambda on_progress, cancel: pd.DataFrame({"x": range(100)}), "a").wait(DEADLINE)
    assert reg.stats()["kept"] == 3 and [reg.get(f"p:{i}") is not None for i in range(6)] == [False] * 3 + [True] * 3
    big = reg.submit("p:big", lambda on_progress, cancel: pd.DataFrame({"x": range(5000)}), "a")
    assert big.wait(DEADLINE) and big.result is not None  # its sessions still get it ...
    assert reg.get("p:big") is None and reg.bytes() <= 10_000  # ... but it is not kept over the budget


def tiny(exp, **values):
    return dataclasses.replace(exp, defaults={**exp.defaults, **values})


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
    t = jobs.warm_up([a, b], reg, runner)
    time.sleep(0.3)
    gate.set()
    t.join(DEADLINE)
    assert not t.is_alive()
    assert started == [("fig1", json.dumps(a.settings(), sort_keys=True))]  # b was the visitor's: not started again
    assert reg.get(a.key()).warm and reg.get(a.key()).state == "done" and visitor.state == "done"


def test_warm_up_restarts_a_default_whose_visitor_cancelled_it():
    reg, gate = jobs.Registry(), threading.Event()
    exp = tiny(FIG1, d=[25])
    visitor = reg.submit(exp.key(), counting(steps=100, pause=0.01, gate=gate), "alice")
    t = jobs.warm_up([exp], reg, lambda page, settings: counting())
    time.sleep(0.2)
    visitor.leave("alice")
    gate.set()
    t.join(DEADLINE)
    assert visitor.state == "cancelled"
    assert reg.get(exp.key()).warm and reg.get(exp.key()).state == "done" and reg.started[exp.key()] == 2


def test_every_page_default_has_a_canonical_key():
    assert [e.page for e in WARM] == list(EXPERIMENTS)
    for exp in WARM:
        assert exp.key() == job_key(exp.page, exp.settings(dict(exp.defaults)))
        shuffled = {k: list(reversed(v)) if isinstance(v, list) else v for k, v in exp.defaults.items()}
        assert exp.key(shuffled) == exp.key()  # a multiselect's order does not make a second job
    assert FIG1.key({**FIG1.defaults, "seeds": 6}) != FIG1.key()


@pytest.mark.slow
def test_subprocess_warm_up_fills_the_cache_and_matches_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    settings = {"d": [25, 50], "seeds": 2, "steps": 5, "m": 20}
    lines = []
    frame = jobs.subprocess_runner("fig1", settings)(on_progress=lambda d, t, m: lines.append((d, t, m)),
                                                     cancel=lambda: False)
    assert lines and lines[-1][2].startswith("[2/2]") and lines[-1][0] == pytest.approx(lines[-1][1])
    assert len(list((tmp_path / "cache").glob("*/*.parquet"))) == 2  # both runs are on disk for the page
    again = FIG1.run(settings)  # the page's own call: every run from the cache, the same numbers
    pd.testing.assert_frame_equal(frame, again)
    # a restarted server: everything is on disk, so the warm-up reads it in-process (no subprocess)
    monkeypatch.setattr(jobs.subprocess, "Popen", None)
    pd.testing.assert_frame_equal(jobs.subprocess_runner("fig1", settings)(on_progress=lambda *a: None,
                                                                          cancel=lambda: False), frame)


def test_warm_up_starts_once_per_process_with_the_pages_asked_for(monkeypatch):
    calls, also = [], []
    monkeypatch.setattr(jobs, "_warm_thread", None)
    monkeypatch.setattr(jobs, "warm_up", lambda experiments: calls.append([e.page for e in experiments]) or "thread")
    monkeypatch.setenv(jobs.WARM_ENV, "0")
    assert not jobs.warm_up_once(WARM) and calls == []  # off
    monkeypatch.setenv(jobs.WARM_ENV, "1")
    monkeypatch.setenv(jobs.PAGES_ENV, "samples, nope,fig1")
    done = threading.Event()
    assert jobs.warm_up_once(WARM, also=done.set) and jobs.warm_up_once(WARM, also=also.append)
    assert calls == [["samples", "fig1"]] and done.wait(DEADLINE) and also == []  # the second call started nothing
