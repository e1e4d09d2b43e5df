"""The one pool (sharp/serve/pool.py) and its blocking-computation jobs (sharp/serve/jobs.py), driven
directly with small fake jobs and one real live run.

No test here reads the wall clock or sleeps to synchronise: what depends on time is the pool's `clock`, which a
test moves by hand (`Clock`), and every wait is on the job itself (`Entry.wait` until a condition on it, woken by
the pool after each slice), bounded by DEADLINE in case the code under test is broken. A fake job's work is a
little real computing (`work`), so several of them overlap on the workers as real ones do.
"""
from __future__ import annotations

import dataclasses
import os
import threading

import pandas as pd
import pytest

from sharp.engine.sweep import Cancelled
from sharp.experiments import FIG1, WARM, job_key, race
from sharp.serve import live_run
from sharp.serve.entry import Entry, Priority
from sharp.serve.jobs import FunctionJob
from sharp.serve.pool import Pool

DEADLINE = 30  # seconds any wait may take (generous: the machine is shared); reached only by a broken pool


def work(units: int) -> int:
    """About `units` tenths of a millisecond of real computing (a fake job's slice of work)."""
    return sum(i * i for i in range(300 * units))


class Clock:
    """The pool's clock, moved by the test: `move(pool, s)` is s seconds later, and the pool looks again."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def move(self, pool: Pool, seconds: float) -> None:
        self.t += seconds
        pool.wake()


class Job:
    """A sliced job of `total` units, one per advance() call; counts who computes at once, logs the order.

    `gate`, when given, holds every advance() until it is set (a worker busy with this job meanwhile)."""

    log: list[str] = []
    lock = threading.Lock()
    running = 0  # jobs inside advance() right now, over every instance
    most = 0

    def __init__(self, name: str, total: int = 10**6, units: int = 5, size: int = 1000, fail_at: int = -1,
                 gate: threading.Event | None = None):
        self.name, self.total, self.units, self.size, self.fail_at, self.gate = name, total, units, size, fail_at, gate
        self.count, self.done, self.closed = 0, False, False
        self.entered = threading.Event()  # a worker has started a slice of it

    def advance(self, budget_s: float) -> int:
        self.entered.set()
        with Job.lock:
            Job.running += 1
            Job.most = max(Job.most, Job.running)
        try:
            if self.gate is not None:
                assert self.gate.wait(DEADLINE)
            if self.count == self.fail_at:
                raise RuntimeError("boom")
            work(self.units)
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


def counting(steps: int = 3, units: int = 0, calls: list | None = None, gate: threading.Event | None = None):
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
            work(units)
            with Job.lock:
                Job.running -= 1
            on_progress(i + 1, steps, f"[{i + 1}/{steps}] step done")
            if cancel():
                raise Cancelled(pd.DataFrame())
        return pd.DataFrame({"x": range(steps)})
    return run


def reaches(entry: Entry, cond) -> bool:
    """Whether cond() holds once the pool has said something about this job (at most DEADLINE seconds)."""
    return entry.wait(DEADLINE, until=cond) and cond()


def play(pool: Pool, entry: Entry) -> bool:
    """A playing visitor: keep the live run wanted until it is done (what the page's stream does)."""
    for _ in range(DEADLINE * 2):
        pool.want(entry)
        if entry.wait(0.5, until=lambda: entry.job.done):
            break
    return entry.job.done


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
    assert reaches(entries[0], lambda: entries[0].job.count > 5)


def test_a_run_nobody_wants_stops_and_resumes_when_wanted(make):
    clock = Clock()
    s = make(workers=1, demand_s=4.0, clock=clock)
    e = s.get("k", lambda: Job("a"))
    assert reaches(e, lambda: e.job.count > 3) and e.state == "active"
    clock.move(s, 5.0)  # nobody renewed the demand
    assert reaches(e, lambda: e.state == "parked")
    n = e.job.count
    other = s.get("other", lambda: Job("other"))  # the worker goes on with other work meanwhile ...
    assert reaches(other, lambda: other.job.count > 20)
    assert e.job.count == n and e.state == "parked"  # ... and gives the parked run nothing
    s.want(e)
    assert reaches(e, lambda: e.job.count > n + 3)


def test_newcomers_get_their_first_slice_before_anyone_else_and_the_rest_wait_in_line(make):
    s, gate = make(workers=1, max_active=2), threading.Event()
    gate.set()
    long = [s.get(f"long{i}", lambda i=i: Job(f"long{i}", gate=gate)) for i in range(2)]
    for e in long:
        s.want(e, 120)  # played all along (however slow the machine)
    assert all(reaches(e, lambda e=e: e.job.count > 2) for e in long)
    gate.clear()  # the worker is held inside a long run's next slice while the newcomers arrive
    for e in long:
        e.job.entered.clear()
    assert any(e.job.entered.wait(DEADLINE / 2) for e in long)  # a slice began (and waits at the gate) ...
    mark = len(Job.log)  # ... after any slice that was under way: it is logged already
    new = [s.get(f"new{i}", lambda i=i: Job(f"new{i}", gate=gate)) for i in range(3)]
    for e in new + long:
        s.want(e, 30)
    gate.set()
    assert all(reaches(e, lambda e=e: e.job.count >= 1) for e in new)
    after = [n for n in Job.log[mark:] if n.startswith(("new", "long"))]
    # the slice in progress ends, then each newcomer's first slice comes before any long run's next one
    assert after[:1] in (["long0"], ["long1"]) and after[1:4] == ["new0", "new1", "new2"], after[:6]
    assert reaches(new[2], lambda: [s.ahead(e) for e in new] == [1, 2, 3])  # full: in line, in arrival order
    assert [s.ahead(e) for e in long] == [0, 0] and all(e.job.count == 1 for e in new)
    long[0].wanted_until = 0  # a long run nobody plays any more makes room for the first in line
    assert reaches(new[0], lambda: new[0].job.count > 3) and s.ahead(new[1]) == 1


def test_time_slices_are_shared_round_robin(make):
    s = make(workers=1, max_active=3)
    es = [s.get(i, lambda i=i: Job(str(i))) for i in range(3)]
    for e in es:
        s.want(e, 30)
    assert reaches(es[0], lambda: min(e.job.count for e in es) >= 30)
    counts = [e.job.count for e in es]
    assert max(counts) - min(counts) <= 3, counts


def test_a_failing_job_reports_and_the_others_go_on(make):
    s = make(workers=1)
    bad, good = s.get("bad", lambda: Job("bad", fail_at=2)), s.get("good", lambda: Job("good", total=20))
    for e in (bad, good):
        s.want(e, 30)
    assert reaches(bad, lambda: bad.state == "failed") and "RuntimeError: boom" in bad.error
    assert reaches(good, lambda: good.job.done)


def test_finished_runs_stay_under_the_byte_budget_least_recent_first(make):
    s = make(workers=1, budget_mb=1, watched_s=0.0)  # each job below finishes holding 0.4 MB
    es = []
    for i in range(4):
        es.append(s.get(i, lambda i=i: Job(str(i), total=4, units=0, size=100_000)))
        assert reaches(es[-1], lambda: es[-1].job.done)
    assert reaches(es[1], lambda: s.peek(0) is None and s.peek(1) is None)
    assert s.peek(3) is not None and s.stats()["bytes"] <= 2**20
    assert es[0].job.closed and s.evicted >= 2


def test_a_watched_run_is_never_evicted(make):
    clock = Clock()
    s = make(workers=1, budget_mb=1, watched_s=60.0, clock=clock)
    es = [s.get(i, lambda i=i: Job(str(i), total=4, units=0, size=200_000)) for i in range(3)]
    assert all(reaches(e, lambda e=e: e.job.done) for e in es)
    with s._cond:
        s._evict()
    assert s.evicted == 0 and all(s.peek(i) is es[i] for i in range(3))  # over budget, but each one looked at
    clock.move(s, 61.0)  # nobody looked for longer than watched_s: the least recently seen go
    with s._cond:
        s._evict()
    assert s.evicted >= 1 and s.stats()["bytes"] <= 2**20


def test_abandoned_unfinished_runs_release_their_stream(make):
    clock = Clock()
    s = make(workers=1, watched_s=0.0, abandoned_s=60.0, demand_s=4.0, evict_every_s=5.0, clock=clock)
    e = s.get("k", lambda: Job("a"))
    assert reaches(e, lambda: e.job.count > 0)
    clock.move(s, 30.0)  # parked (nobody plays it), but not yet abandoned
    assert reaches(e, lambda: e.state == "parked") and s.stats()["jobs"] == 1 and not e.job.closed
    clock.move(s, 31.0)  # nobody looked for longer than abandoned_s
    assert reaches(e, lambda: s.stats()["jobs"] == 0) and e.job.closed


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
    assert live_run.wait_first(e, DEADLINE)
    assert reaches(e, lambda: e.job.count > 20)
    one.look(e.job)  # the first visitor's page draws what there is...
    one.toggle(e.job)  # ... and the visitor pauses
    paused_at = one.look(e.job)
    assert not paused_at.running and one.shown > 20
    assert s.get(settings, lambda: None) is e  # the second visitor with the same settings gets the same run
    assert len(two.look(e.job).history["kernel"]) == e.job.count  # with its full history so far
    assert play(s, e)  # the second visitor plays it to the end
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
    assert reaches(e, lambda: e.job.done)
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
    e = s.submit("p:a", job(counting(steps=10**6, gate=gate)), "alice")
    assert s.submit("p:a", job(counting()), "bob") is e
    s.leave(e, "alice")
    assert not e.job.stopping
    gate.set()
    assert reaches(e, lambda: e.job.progress()[1] > 2)
    s.leave(e, "bob")
    assert e.wait(DEADLINE) and e.state == "cancelled" and e.job.result is None
    assert s.peek("p:a") is None  # forgotten: the next visitor starts afresh
    again = s.submit("p:a", job(counting()), "carol")
    assert again is not e and again.wait(DEADLINE) and again.state == "done"


def test_a_computation_nobody_looks_at_stops_by_itself(make):
    clock = Clock()
    s = make(workers=1, abandon_s=15.0, clock=clock)
    e = s.submit("p:gone", job(counting(steps=10**6)), "alice")  # alice never looks again
    assert reaches(e, lambda: e.job.progress()[1] > 2) and e.state == "active"
    clock.move(s, 10.0)
    s.watch(e, "bob")  # bob looks: it goes on for abandon_s more
    clock.move(s, 10.0)
    assert reaches(e, lambda: e.job.progress()[1] > 10) and not e.finished
    clock.move(s, 16.0)  # nobody looked for longer than abandon_s
    assert e.wait(DEADLINE) and e.state == "cancelled"
    assert s.status(e).runs_done < 10**6


def test_queued_computations_wait_their_turn_and_say_how_many_are_ahead(make):
    s, gate = make(workers=1, slots=1), threading.Event()
    first = s.submit("p:1", job(counting(gate=gate)), "a")
    second, third = s.submit("p:2", job(counting()), "b"), s.submit("p:3", job(counting()), "c")
    assert reaches(first, lambda: s.status(first).state == "running")
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
    live_runs = [s.get(i, lambda i=i: Job(f"l{i}", total=40, units=20)) for i in range(3)]
    for e in live_runs:
        s.want(e, 30)
    sweeps = [s.submit(f"p:{i}", job(counting(steps=20, units=20)), "v") for i in range(3)]
    warm = [s.submit(f"w:{i}", job(counting(steps=20, units=20)), background=True) for i in range(2)]
    assert all(reaches(e, lambda e=e: e.job.done) for e in live_runs)
    assert all(e.wait(DEADLINE) for e in sweeps + warm)  # background work once no live run is wanted
    assert Job.most == 2, Job.most  # busy up to the pool's size, never beyond (threads parked cost nothing)


def free_worker_takes(pool: Pool) -> Entry | None:
    """What a worker free now would advance (the pool's own choice, asked under its lock)."""
    with pool._cond:
        return pool._next()


def test_background_work_pauses_while_a_visitor_watches_a_live_run_even_on_an_idle_worker(make):
    clock, gate = Clock(), threading.Event()
    s = make(workers=2, demand_s=4.0, clock=clock)  # two workers: one would be idle beside the live run
    run = s.get("live", lambda: Job("live", gate=gate))
    bg = s.submit("warm", job(counting(steps=10**6)), background=True)
    assert run.job.entered.wait(DEADLINE)  # one worker is inside the live run's slice (held at the gate) ...
    assert free_worker_takes(s) is None and bg.slices == 0  # ... and the other one idles: paused, not behind
    gate.set()
    clock.move(s, 5.0)  # nobody plays the live run any more: it is parked ...
    assert reaches(bg, lambda: bg.job.progress()[1] > 3)  # ... and the background work goes on
    s.want(run)  # a visitor plays again: from now on no worker gives the background work a turn
    assert all(free_worker_takes(s) is not bg for _ in range(5))
    n = run.job.count
    assert reaches(run, lambda: run.job.count > n + 20)


def test_background_work_takes_every_idle_worker_while_nobody_is_here(make):
    """The warm-up on a fresh server: with no visitor, each worker advances a background job of its own."""
    gate = threading.Event()
    s = make(workers=2)
    a = s.submit("w:a", lambda: Job("a", total=3, gate=gate), background=True)
    b = s.submit("w:b", lambda: Job("b", total=3, gate=gate), background=True)
    try:  # both held inside a slice at the gate at once: two workers on two background jobs
        assert a.job.entered.wait(DEADLINE) and b.job.entered.wait(DEADLINE)
    finally:
        gate.set()
    assert a.wait(DEADLINE) and b.wait(DEADLINE)


def test_a_background_job_a_visitor_waits_for_is_promoted_at_once(make):
    s = make(workers=1, starve_s=0.2)
    run = s.get("live", lambda: Job("live"))  # a live run that never ends, always wanted
    s.want(run, 60)
    bg = s.submit("fig1", job(counting(steps=5)), background=True)
    assert reaches(run, lambda: run.job.count > 50)
    assert bg.slices == 0 and bg.priority == Priority.BACKGROUND  # nobody waits for it: it gets nothing
    assert s.submit("fig1", job(counting()), "alice") is bg and bg.priority == Priority.WAITED
    assert bg.wait(DEADLINE) and bg.state == "done"  # a waited job is never starved by live runs
    assert not run.job.done and s.started == 2
    s.leave(bg, "alice")
    assert bg.state == "done"  # finished work stays


def test_a_computation_done_elsewhere_does_not_take_a_worker(make):
    s, gate = make(workers=1), threading.Event()
    remote = s.submit("dask", job(counting(gate=gate)), "a", local=False)
    run = s.get("live", lambda: Job("live", total=20))
    assert reaches(run, lambda: run.job.done)  # the live run had the only worker meanwhile
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


def test_background_work_waits_while_a_page_opens_and_while_a_visitor_looks_at_a_live_run(make):
    clock = Clock()
    s = make(workers=1, demand_s=4.0, clock=clock)
    s.hold_background(5.0)  # a page is being opened (the server's page route)
    bg = s.submit("warm", job(counting(steps=10**6)), background=True)
    assert free_worker_takes(s) is None and bg.slices == 0
    run = s.get("live", lambda: Job("live", total=10**6), want=False)  # its page looks at it, nobody plays yet
    assert reaches(run, lambda: run.job.count >= 1)  # the newcomer's first slice
    clock.move(s, 5.0)  # the page has opened; its visitor still looks at the run (seen just now, then 5 s ago) ...
    s.peek("live")  # ... the page's script looks again
    assert free_worker_takes(s) is not bg and bg.slices == 0
    clock.move(s, 5.0)  # nobody has looked for longer than demand_s: the background work goes on
    assert reaches(bg, lambda: bg.job.progress()[1] > 3)


def test_a_computation_hands_its_turn_back_between_logged_steps():
    """A run logged once at its end (every = steps) still gives the worker back each budget: the training loop's
    step hook, not only its progress reports."""
    from sharp.engine.config import preset
    from sharp.engine.train import train

    cfg = preset("feature", d=40, n=240, steps=400, every=400, seeds=2, n_test=100)

    def run(on_progress, cancel):
        for s in train(cfg):
            on_progress(s.step, cfg.steps, f"step {s.step}")
        return pd.DataFrame({"x": [1]})

    job_ = FunctionJob(run)
    turns = 0
    while not job_.done and turns < 10**5:  # bounded; each turn is about 1 ms of training
        job_.advance(0.001)
        turns += 1
    assert job_.state == "done"
    assert turns > 10  # the run was cut into many turns, though it reports progress twice only
