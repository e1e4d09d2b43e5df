"""The server-wide sweep registry (sharp.serve.jobs): one job per key, shared, cancelled only when nobody waits,
queued fairly, bounded in memory; and the pages' experiments (sharp.experiments) it is keyed by."""
import threading
import time

import pandas as pd

from sharp.engine.sweep import Cancelled
from sharp.experiments import EXPERIMENTS, FIG1, WARM, job_key
from sharp.serve import jobs

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


def test_a_sweep_trains_below_the_server_threads_priority(monkeypatch):
    import os

    def nice_now() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    base = nice_now()
    seen = {}

    def run(on_progress, cancel):
        seen["nice"] = nice_now()
        return pd.DataFrame({"x": [1]})

    monkeypatch.setenv(jobs.NICE_ENV, "3")
    job = jobs.Registry(workers=1).submit("k", run)
    assert job.wait(DEADLINE) and job.status().state == "done"
    assert seen["nice"] == min(19, base + 3)
    assert nice_now() == base  # the asking thread (a session's) keeps its own


def test_every_page_default_has_a_canonical_key():
    assert [e.page for e in WARM] == list(EXPERIMENTS)
    for exp in WARM:
        assert exp.key() == job_key(exp.page, exp.settings(dict(exp.defaults)))
        shuffled = {k: list(reversed(v)) if isinstance(v, list) else v for k, v in exp.defaults.items()}
        assert exp.key(shuffled) == exp.key()  # a multiselect's order does not make a second job
    assert FIG1.key({**FIG1.defaults, "seeds": 6}) != FIG1.key()
