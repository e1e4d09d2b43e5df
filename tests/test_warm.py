"""The warm-up (sharp.serve.warm): each default submitted once as background work of the pool, joining a
visitor's job rather than duplicating it, started once per process, with the numbers the page itself computes."""
import dataclasses
import threading
import time

import pandas as pd
from test_pool import DEADLINE, counting, reaches

from sharp.experiments import FIG1, WARM
from sharp.serve import warm
from sharp.serve.jobs import FunctionJob
from sharp.serve.pool import Priority


def tiny(exp, **values):
    return dataclasses.replace(exp, defaults={**exp.defaults, **values})


def test_warm_up_computes_each_default_once_and_joins_a_visitors_job(own_pool):
    pool = own_pool
    gate = threading.Event()
    a, b = tiny(FIG1, d=[25], seeds=2, steps=4), dataclasses.replace(tiny(FIG1, d=[50]), page="other")
    visitor = pool.submit(b.key(), lambda: FunctionJob(counting(gate=gate)), "alice")  # a visitor got there first
    entries = warm.warm_up([a, b], pool)
    assert entries[1] is visitor and visitor.background  # joined, not started again
    gate.set()
    assert all(e.wait(DEADLINE) and e.state == "done" for e in entries)
    assert pool.started == 2
    pd.testing.assert_frame_equal(entries[0].job.result, a.run())  # the page's own call gives the same frame


def test_a_warmed_default_keeps_going_when_its_visitor_cancels(own_pool):
    pool = own_pool
    gate = threading.Event()
    exp = tiny(FIG1, d=[25])
    visitor = pool.submit(exp.key(), lambda: FunctionJob(counting(steps=20, gate=gate)), "alice")
    (entry,) = warm.warm_up([exp], pool)
    pool.leave(visitor, "alice")  # the visitor cancels: the warm-up still wants it
    gate.set()
    assert entry is visitor and entry.wait(DEADLINE) and entry.state == "done" and pool.started == 1


def test_a_page_opened_while_its_default_is_being_warmed_promotes_it(own_pool):
    pool = own_pool
    run = pool.get("live", lambda: _Endless())  # a live run always wanted: background work pauses
    pool.want(run, 60)
    (entry,) = warm.warm_up([tiny(FIG1, d=[25], seeds=2, steps=4)], pool)
    assert reaches(run, lambda: run.job.count >= 10)  # ten slices of the live run ...
    assert entry.slices == 0 and entry.priority == Priority.BACKGROUND  # ... and none for the warm-up
    pool.watch(entry, "bob")  # bob opens the page
    assert entry.priority == Priority.WAITED and entry.wait(DEADLINE) and entry.state == "done"


class _Endless:
    """A live run that never ends: each slice computes for its whole budget."""

    done = False

    def __init__(self):
        self.count = 0

    def advance(self, budget_s):
        end = time.perf_counter() + budget_s
        while time.perf_counter() < end:
            sum(range(1000))
        self.count += 1
        return 1

    def nbytes(self):
        return 0


def test_warm_up_starts_once_per_process_with_the_pages_asked_for(monkeypatch):
    calls, also = [], []
    monkeypatch.setattr(warm, "_started", None)
    monkeypatch.setattr(warm, "warm_up", lambda experiments, pool=None: calls.append(
        [e.page for e in experiments]) or ["entry"])
    monkeypatch.setenv(warm.WARM_ENV, "0")
    assert not warm.warm_up_once(WARM) and calls == []  # off
    monkeypatch.setenv(warm.WARM_ENV, "1")
    monkeypatch.setenv(warm.PAGES_ENV, "samples, nope,fig1")
    done = threading.Event()
    assert warm.warm_up_once(WARM, also=done.set) and warm.warm_up_once(WARM, also=also.append)
    assert calls == [["samples", "fig1"]] and done.wait(DEADLINE) and also == []  # once, in the order asked
