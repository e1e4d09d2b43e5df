"""The one pool (sharp/serve/pool.py) and its blocking-computation jobs (sharp/serve/jobs.py), driven
directly with small fake jobs and one real live run. Timings are the pool's constructor parameters.

Every wait is bounded: `until` checks a condition for at most a few seconds, Entry.wait and Event.wait time out.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time

import pandas as pd
import pytest

from sharp.engine.sweep import Cancelled
from sharp.experiments import FIG1, WARM, job_key, race
from sharp.serve import live_run
from sharp.serve.entry import Entry, Priority
from sharp.serve.jobs import FunctionJob
from sharp.serve.pool import Pool

DEADLINE = 30  # seconds any wait may take (generous: the machine is shared)


class Job:
    """A sliced job of `total` units, one per advance() call (each takes `unit_s`); counts who computes at once."""

    log: list[str] = []
    lock = threading.Lock()
    running = 0  # jobs inside advance() right now, over every instance
    most = 0

    def __init__(self, name: str, total: int = 10**6, unit_s: float = 0.005, size: int = 1000, fail_at: int = -1):
        self.name, self.total, self.unit_s, self.size, self.fail_at = name, total, unit_s, size, fail_at
        self.count, self.done, self.closed = 0, False, False

    def advance(self, budget_s: float) -> int:
        with Job.lock:
            Job.running += 1
            Job.most = max(Job.most, Job.running)
        try:
            if self.count == self.fail_at:
                raise RuntimeError("boom")
            time.sleep(self.unit_s)
            self.count += 1
            with Job.lock:
                Job.log.append(self.name)
            self.done = self.count >= self.total
            return 1
        finally:
            with Job.lock:
                Job.running -= 1

    def nbytes(self) -> int:
        return self.size * self.count

    def close(self) -> None:
        self.closed = True


def counting(steps: int = 3, pause: float = 0.0, calls: list | None = None, gate: threading.Event | None = None):
    """A blocking computation of `steps` steps (reporting progress, honouring cancel), optionally held at a gate."""
    def run(on_progress, cancel):
        if calls is not None:
            calls.append(1)
        for i in range(steps):
            if gate is not None:
                assert gate.wait(DEADLINE)
            with Job.lock:
                Job.running += 1
                Job.most = max(Job.most, Job.running)
            time.sleep(pause)
            with Job.lock:
                Job.running -= 1
            on_progress(i + 1, steps, f"[{i + 1}/{steps}] step done")
            if cancel():
                raise Cancelled(pd.DataFrame())
        return pd.DataFrame({"x": range(steps)})
    return run


def until(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


@pytest.fixture
def make():
    made = []

    def build(**kw) -> Pool:
        made.append(Pool(**kw))
        return made[-1]

    yield build
    for s in made:
        s.close()


def job(fn):
    return lambda: FunctionJob(fn)


# --- live runs -----------------------------------------------------------------------------------------------

def test_one_run_per_key_whoever_asks(make):
    s = make(workers=2)
    entries = [s.get("k", lambda: Job("a")) for _ in range(5)]
    assert len({id(e) for e in entries}) == 1 and s.started == 1
    assert until(lambda: entries[0].job.count > 5)


def test_a_run_nobody_wants_stops_and_resumes_when_wanted(make):
    s = make(workers=1, demand_s=0.2)
    e = s.get("k", lambda: Job("a"))
    assert until(lambda: e.state == "parked", 5)
    n = e.job.count
    assert not until(lambda: e.job.count > n, 0.3)  # parked: no CPU spent
    s.want(e)
    assert until(lambda: e.job.count > n + 3, 5)


def test_newcomers_get_their_first_slice_at_once_and_the_rest_wait_in_line(make):
    s = make(workers=1, max_active=2)
    long = [s.get(f"long{i}", lambda i=i: Job(f"long{i}", unit_s=0.01)) for i in range(2)]
    assert until(lambda: all(e.job.count > 2 for e in long))
    t0 = time.monotonic()
    new = [s.get(f"new{i}", lambda i=i: Job(f"new{i}", unit_s=0.01)) for i in range(3)]
    for e in new + long:
        s.want(e, 30)
    assert until(lambda: all(e.job.count >= 1 for e in new), 2)  # each newcomer's first slice, at once
    assert time.monotonic() - t0 < 1.0
    assert until(lambda: [s.ahead(e) for e in new] == [1, 2, 3])  # the pool is full: in line, in arrival order
    assert [s.ahead(e) for e in long] == [0, 0] and all(e.job.count == 1 for e in new)
    long[0].wanted_until = 0  # a long run nobody plays any more makes room for the first in line
    assert until(lambda: new[0].job.count > 3, 5) and s.ahead(new[1]) == 1


def test_time_slices_are_shared_round_robin(make):
    s = make(workers=1, max_active=3)
    es = [s.get(i, lambda i=i: Job(str(i), unit_s=0.002)) for i in range(3)]
    for e in es:
        s.want(e, 30)
    assert until(lambda: min(e.job.count for e in es) >= 30)
    counts = [e.job.count for e in es]
    assert max(counts) - min(counts) <= 3, counts


def test_a_failing_job_reports_and_the_others_go_on(make):
    s = make(workers=1)
    bad, good = s.get("bad", lambda: Job("bad", fail_at=2)), s.get("good", lambda: Job("good", total=20))
    for e in (bad, good):
        s.want(e, 30)
    assert until(lambda: bad.state == "failed") and "RuntimeError: boom" in bad.error
    assert until(lambda: good.job.done)


def test_finished_runs_stay_under_the_byte_budget_least_recent_first(make):
    s = make(workers=1, budget_mb=1, watched_s=0.0)  # each job below finishes holding 0.4 MB
    es = []
    for i in range(4):
        es.append(s.get(i, lambda i=i: Job(str(i), total=4, unit_s=0.0, size=100_000)))
        assert until(lambda: es[-1].job.done)
    assert until(lambda: s.peek(0) is None and s.peek(1) is None)
    assert s.peek(3) is not None and s.stats()["bytes"] <= 2**20
    assert es[0].job.closed and s.evicted >= 2


def test_a_watched_run_is_never_evicted(make):
    s = make(workers=1, budget_mb=1, watched_s=60.0)
    es = [s.get(i, lambda i=i: Job(str(i), total=4, unit_s=0.0, size=200_000)) for i in range(3)]
    assert until(lambda: all(e.job.done for e in es))
    s._evict_every = 0.0
    assert not until(lambda: s.evicted > 0, 0.3)
    assert all(s.peek(i) is es[i] for i in range(3))  # over budget, but every one was just looked at


def test_abandoned_unfinished_runs_release_their_stream(make):
    s = make(workers=1, watched_s=0.0, abandoned_s=0.2, demand_s=0.1, evict_every_s=0.05)
    e = s.get("k", lambda: Job("a"))
    assert until(lambda: s.stats()["jobs"] == 0, 15) and e.job.closed


def test_shared_drawings_are_built_once_per_view():
    e = Entry("k", Job("a"), Priority.WATCHED)
    builds = []
    charts = [e.chart(("curves", 5), lambda: builds.append(1) or "svg") for _ in range(20)]
    assert charts == ["svg"] * 20 and builds == [1]
    for i in range(20):
        e.chart(i, lambda: "x")
    assert len(e.drawn) == 8  # bounded


def test_real_live_runs_are_shared_and_a_paused_visitor_keeps_their_view(make):
    s = make(workers=1)
    settings = dataclasses.replace(race.DEFAULTS, d=12, n=72, steps=200, seeds=2, kernel_m=32, feature_m=8,
                                   feature_eta=8.0).run_part()
    one, two = live_run.Watch(settings), live_run.Watch(settings)
    e = s.get(settings, lambda: live_run.LiveRun.start(settings, stored=False))
    assert live_run.wait_first(e, 10)
    assert until(lambda: e.job.count > 20)
    one.look(e.job)  # the first visitor's page draws what there is...
    one.toggle(e.job)  # ... and the visitor pauses
    paused_at = one.look(e.job)
    assert not paused_at.running and one.shown > 20
    assert s.get(settings, lambda: None) is e  # the second visitor with the same settings gets the same run
    assert len(two.look(e.job).history["kernel"]) == e.job.count  # with its full history so far
    assert until(lambda: (s.want(e), e.job.done)[1], 60)  # the second visitor plays it to the end
    assert one.look(e.job).history == paused_at.history  # the paused view did not move
    assert two.look(e.job).done and len(two.look(e.job).history["kernel"]) == e.job.count


def test_workers_train_at_a_lower_cpu_priority(make):
    s = make(workers=1, nice=3)
    seen = []

    class Probe(Job):
        def advance(self, budget_s: float) -> int:
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().advance(budget_s)

    e = s.get("k", lambda: Probe("p", total=2))
    assert until(lambda: e.job.done)
    assert seen and seen[0] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)


# --- computations ------------------------------------------------------------------------------------------

def test_same_key_is_computed_once_and_shared_by_every_asker(make):
    s, calls, gate = make(workers=2), [], threading.Event()
    got = []
    threads = [threading.Thread(target=lambda i=i: got.append(s.submit("p:{}", job(counting(calls=calls, gate=gate)),
                                                                        f"s{i}"))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    gate.set()
    assert len({id(e) for e in got}) == 1 and got[0].wait(DEADLINE)
    assert calls == [1] and s.started == 1
    assert got[0].state == "done" and got[0].job.result.x.tolist() == [0, 1, 2]
    assert s.submit("p:{}", job(counting(calls=calls)), "late") is got[0] and calls == [1]  # kept: no recompute
    st = s.status(got[0])
    assert (st.runs_done, st.runs_total, st.watchers) == (3, 3, 9)


def test_a_visitor_leaving_stops_the_job_only_when_nobody_else_waits(make):
    s, gate = make(workers=1), threading.Event()
    e = s.submit("p:a", job(counting(steps=50, pause=0.01, gate=gate)), "alice")
    assert s.submit("p:a", job(counting()), "bob") is e
    s.leave(e, "alice")
    assert not e.job.stopping
    gate.set()
    assert until(lambda: s.status(e).runs_done > 2)
    s.leave(e, "bob")
    assert e.wait(DEADLINE) and e.state == "cancelled" and e.job.result is None
    assert s.peek("p:a") is None  # forgotten: the next visitor starts afresh
    again = s.submit("p:a", job(counting()), "carol")
    assert again is not e and again.wait(DEADLINE) and again.state == "done"


def test_a_computation_nobody_looks_at_stops_by_itself(make):
    s = make(workers=1, abandon_s=0.2)
    e = s.submit("p:gone", job(counting(steps=1000, pause=0.01)), "alice")  # alice never looks again
    assert e.wait(DEADLINE) and e.state == "cancelled"
    assert s.status(e).runs_done < 1000


def test_queued_computations_wait_their_turn_and_say_how_many_are_ahead(make):
    s, gate = make(workers=1, slots=1), threading.Event()
    first = s.submit("p:1", job(counting(gate=gate)), "a")
    second, third = s.submit("p:2", job(counting()), "b"), s.submit("p:3", job(counting()), "c")
    assert until(lambda: s.status(first).state == "running")
    assert (s.status(second).state, s.status(second).ahead) == ("queued", 1)  # behind the running one
    assert (s.status(third).state, s.status(third).ahead) == ("queued", 2)
    gate.set()
    assert all(e.wait(DEADLINE) and e.state == "done" for e in (first, second, third))


def test_a_failure_is_reported_and_not_kept(make):
    s = make(workers=1)

    def boom(on_progress, cancel):
        raise ValueError("d must be at least 4")
    e = s.submit("p:bad", job(boom), "a")
    assert e.wait(DEADLINE) and e.state == "failed" and "at least 4" in str(e.job.error)
    assert s.peek("p:bad") is None


def test_finished_frames_stay_within_the_byte_budget(make):
    s = make(workers=1, budget_mb=0.02, watched_s=0.0)  # about 20 kB: two frames of 1000 rows (8 kB each)
    frames = []
    for i in range(6):
        frames.append(s.submit(f"p:{i}", job(lambda on_progress, cancel: pd.DataFrame({"x": range(1000)})), "a"))
        assert frames[-1].wait(DEADLINE) and frames[-1].state == "done"
        assert frames[-1].job.result is not None  # its visitors get it, kept or not
    assert s.stats()["bytes"] <= 0.02 * 2**20 and s.evicted >= 3
    assert s.peek("p:0") is None and s.peek("p:5") is frames[-1]  # least recently seen out first


# --- one pool, one priority order ----------------------------------------------------------------------------

def test_never_more_jobs_compute_at_once_than_there_are_workers(make):
    Job.running = Job.most = 0
    s = make(workers=2, slice_s=0.01)
    live_runs = [s.get(i, lambda i=i: Job(f"l{i}", total=40, unit_s=0.002)) for i in range(3)]
    for e in live_runs:
        s.want(e, 30)
    sweeps = [s.submit(f"p:{i}", job(counting(steps=20, pause=0.002)), "v") for i in range(3)]
    warm = [s.submit(f"w:{i}", job(counting(steps=20, pause=0.002)), background=True) for i in range(2)]
    assert all(e.wait(DEADLINE) for e in sweeps + warm)
    assert until(lambda: all(e.job.done for e in live_runs), DEADLINE)
    assert Job.most == 2, Job.most  # busy up to the pool's size, never beyond (threads parked cost nothing)


def test_background_work_waits_while_a_visitor_watches_a_live_run(make):
    s = make(workers=1)
    run = s.get("live", lambda: Job("live", total=60, unit_s=0.005))
    s.want(run, 30)
    bg = s.submit("warm", job(counting(steps=200, pause=0.002)), background=True)  # 0.4 s: 8 slices or more
    assert until(lambda: run.job.done, DEADLINE)
    assert bg.slices <= 1  # at most one slice while the live run was wanted (none, unless it came first)
    assert bg.wait(DEADLINE) and bg.state == "done"  # then it gets the idle worker


def test_a_background_job_a_visitor_waits_for_is_promoted_at_once(make):
    s = make(workers=1, starve_s=0.2)
    run = s.get("live", lambda: Job("live", unit_s=0.005))  # a live run that never ends, always wanted
    s.want(run, 60)
    bg = s.submit("fig1", job(counting(steps=5, pause=0.001)), background=True)
    assert not bg.wait(0.5) and bg.priority == Priority.BACKGROUND  # nobody waits: it gets nothing
    assert s.submit("fig1", job(counting()), "alice") is bg and bg.priority == Priority.WAITED
    assert bg.wait(DEADLINE) and bg.state == "done"  # a waited job is never starved by live runs
    assert not run.job.done and s.started == 2
    s.leave(bg, "alice")
    assert bg.state == "done"  # finished work stays


def test_a_computation_done_elsewhere_does_not_take_a_worker(make):
    s, gate = make(workers=1), threading.Event()
    remote = s.submit("dask", job(counting(gate=gate)), "a", local=False)
    run = s.get("live", lambda: Job("live", total=20, unit_s=0.001))
    assert until(lambda: run.job.done, DEADLINE)  # the live run had the only worker meanwhile
    gate.set()
    assert remote.wait(DEADLINE) and remote.state == "done"


def test_a_computation_trains_below_the_server_threads_priority(make):
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def run(on_progress, cancel):
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return pd.DataFrame({"x": [1]})

    e = make(workers=1, nice=3).submit("k", lambda: FunctionJob(run), "a")
    assert e.wait(DEADLINE) and e.state == "done"
    assert seen["nice"] == min(19, base + 3)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the asking thread keeps its own


def test_every_page_default_has_a_canonical_key():
    assert len({e.page for e in WARM}) == len(WARM)  # one job-key prefix per page
    for exp in WARM:
        assert exp.key() == job_key(exp.page, exp.settings(dict(exp.defaults)))
        shuffled = {k: list(reversed(v)) if isinstance(v, list) else v for k, v in exp.defaults.items()}
        assert exp.key(shuffled) == exp.key()  # a multiselect's order does not make a second job
    assert FIG1.key({**FIG1.defaults, "seeds": 6}) != FIG1.key()
