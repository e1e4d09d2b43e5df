"""The server-wide run registry (sharp/serve/scheduler.py), driven directly with small fake jobs and one real live run.

Every wait is bounded: `until` polls a condition for at most a few seconds.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time

import pytest

from sharp.serve import scheduler as reg_mod
from sharp.serve.scheduler import Registry
from ui import live


class Job:
    """A job of `total` units, one unit per advance() call (each takes `unit_s`); records who ran it and when."""

    log: list[str] = []
    lock = threading.Lock()

    def __init__(self, name: str, total: int = 10**6, unit_s: float = 0.005, size: int = 1000, fail_at: int = -1):
        self.name, self.total, self.unit_s, self.size, self.fail_at = name, total, unit_s, size, fail_at
        self.count, self.done, self.closed = 0, False, False

    def advance(self, budget_s: float) -> int:
        if self.count == self.fail_at:
            raise RuntimeError("boom")
        time.sleep(self.unit_s)
        self.count += 1
        with Job.lock:
            Job.log.append(self.name)
        self.done = self.count >= self.total
        return 1

    def nbytes(self) -> int:
        return self.size * self.count

    def close(self) -> None:
        self.closed = True


def until(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


@pytest.fixture
def registry():
    regs = []

    def make(**kw) -> Registry:
        regs.append(Registry(**kw))
        return regs[-1]

    yield make
    for r in regs:
        r.close()


def test_one_run_per_key_whoever_asks(registry):
    r = registry(workers=1)
    made = []
    a = r.get("k", lambda: made.append(1) or Job("a", total=5))
    b = r.get("k", lambda: made.append(1) or Job("b", total=5))
    assert a is b and made == [1] and r.started == 1
    assert until(lambda: a.job.done) and a.state == "done" and a.job.count == 5


def test_a_run_nobody_wants_stops_and_resumes_when_wanted(registry, monkeypatch):
    monkeypatch.setattr(reg_mod, "DEMAND_S", 0.3)
    r = registry(workers=1)
    e = r.get("k", lambda: Job("a"))
    assert until(lambda: e.state == "parked", 5)  # no playing visitor renewed the demand
    n = e.job.count
    time.sleep(0.3)
    assert e.job.count == n  # parked: no CPU spent
    r.want(e)
    assert until(lambda: e.job.count > n + 3, 5)


def test_newcomers_get_their_first_slice_at_once_and_the_rest_wait_in_line(registry):
    r = registry(workers=1, max_active=2)
    long = [r.get(f"long{i}", lambda i=i: Job(f"long{i}", unit_s=0.01)) for i in range(2)]
    assert until(lambda: all(e.job.count > 2 for e in long))
    t0 = time.monotonic()
    new = [r.get(f"new{i}", lambda i=i: Job(f"new{i}", unit_s=0.01)) for i in range(3)]
    for e in new + long:
        r.want(e, 30)
    # each newcomer's first slice comes before the long runs get more than a couple of slices
    assert until(lambda: all(e.job.count >= 1 for e in new), 2)
    assert time.monotonic() - t0 < 1.0
    # the pool is full (2 active): the newcomers wait, in arrival order, and say how many are ahead
    time.sleep(0.2)
    assert [r.ahead(e) for e in new] == [1, 2, 3]
    assert [r.ahead(e) for e in long] == [0, 0]
    assert all(e.job.count == 1 for e in new)  # only their first slice
    # a long run that nobody plays any more makes room for the first in line
    long[0].wanted_until = 0
    assert until(lambda: new[0].job.count > 3, 5) and r.ahead(new[1]) == 1


def test_time_slices_are_shared_round_robin(registry):
    r = registry(workers=1, max_active=3)
    es = [r.get(i, lambda i=i: Job(str(i), unit_s=0.002)) for i in range(3)]
    for e in es:
        r.want(e, 30)
    assert until(lambda: min(e.job.count for e in es) >= 30)
    counts = [e.job.count for e in es]
    assert max(counts) - min(counts) <= 3, counts


def test_a_failing_job_reports_and_the_others_go_on(registry):
    r = registry(workers=1)
    bad = r.get("bad", lambda: Job("bad", fail_at=2))
    good = r.get("good", lambda: Job("good", total=20))
    for e in (bad, good):
        r.want(e, 30)
    assert until(lambda: bad.state == "failed") and "RuntimeError: boom" in bad.error
    assert until(lambda: good.job.done)


def test_finished_runs_stay_under_the_byte_budget_least_recent_first(registry, monkeypatch):
    monkeypatch.setattr(reg_mod, "WATCHED_S", 0.0)
    r = registry(workers=1, budget_mb=1)  # each job below finishes holding 0.4 MB
    es = []
    for i in range(4):
        es.append(r.get(i, lambda i=i: Job(str(i), total=4, unit_s=0.0, size=100_000)))
        assert until(lambda: es[-1].job.done)
        time.sleep(0.01)
    assert until(lambda: r.peek(0) is None and r.peek(1) is None)
    assert r.peek(3) is not None and r.stats()["bytes"] <= 2**20
    assert es[0].job.closed and r.evicted >= 2


def test_a_watched_run_is_never_evicted(registry, monkeypatch):
    monkeypatch.setattr(reg_mod, "WATCHED_S", 60.0)
    r = registry(workers=1, budget_mb=1)
    es = [r.get(i, lambda i=i: Job(str(i), total=4, unit_s=0.0, size=200_000)) for i in range(3)]
    assert until(lambda: all(e.job.done for e in es))
    time.sleep(0.1)
    assert all(r.peek(i) is es[i] for i in range(3))  # over budget, but every one was just looked at


def test_abandoned_unfinished_runs_release_their_stream(registry, monkeypatch):
    monkeypatch.setattr(reg_mod, "WATCHED_S", 0.0)
    monkeypatch.setattr(reg_mod, "ABANDONED_S", 0.2)
    monkeypatch.setattr(reg_mod, "DEMAND_S", 0.1)
    r = registry(workers=1)
    e = r.get("k", lambda: Job("a"))
    r._evict_every = 0.05
    assert until(lambda: r.stats()["runs"] == 0, 15) and e.job.closed


def test_shared_drawings_are_built_once_per_view():
    e = reg_mod.Entry("k", Job("a"))
    builds = []
    charts = [e.chart(("curves", 5), lambda: builds.append(1) or "svg") for _ in range(20)]
    assert charts == ["svg"] * 20 and builds == [1]
    for i in range(20):
        e.chart(i, lambda: "x")
    assert len(e.drawn) == 8  # bounded


def test_real_live_runs_are_shared_and_a_paused_visitor_keeps_their_view(registry):
    r = registry(workers=1)
    s = dataclasses.replace(live.DEFAULTS, d=12, n=72, steps=200, seeds=2, kernel_m=32, feature_m=8,
                            feature_eta=8.0).run_part()
    one, two = live.Watch(s), live.Watch(s)
    e = r.get(s, lambda: live.LiveRun.start(s))
    assert live.wait_first(e, 10)
    assert until(lambda: e.job.count > 20)
    one.look(e.job)  # the first visitor's page draws what there is...
    one.toggle(e.job)  # ... and the visitor pauses
    paused_at = one.look(e.job)
    assert not paused_at.running and one.shown > 20
    assert r.get(s, lambda: None) is e  # the second visitor with the same settings gets the same run
    frame = two.look(e.job)
    assert len(frame.history["kernel"]) == e.job.count  # with its full history so far
    assert until(lambda: (r.want(e), e.job.done)[1], 60)  # the second visitor plays it to the end
    assert one.look(e.job).history == paused_at.history  # the paused view did not move
    assert two.look(e.job).done and len(two.look(e.job).history["kernel"]) == e.job.count
    one.toggle(e.job)  # Play: jumps to where the run is
    assert one.look(e.job).done
    one.toggle(e.job)  # Replay: from the start, no training
    assert one.replaying and len(one.look(e.job).history["kernel"]) < e.job.count


def test_workers_train_at_a_lower_cpu_priority(registry):
    r = registry(workers=1, nice=3)
    seen = []

    class Probe(Job):
        def advance(self, budget_s: float) -> int:
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().advance(budget_s)

    e = r.get("k", lambda: Probe("p", total=2))
    assert until(lambda: e.job.done)
    assert seen and seen[0] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)
