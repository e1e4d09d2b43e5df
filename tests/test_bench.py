"""The benchmark's two sides compute the same thing, and `python -m sharp bench` prints its table.

No timing is asserted here: speed targets live in the benchmark's output, not in tests.
"""
import re

import pytest
import torch

from sharp import preset
from sharp.bench import baseline, cases, engine, flops_per_step, format_report, run
from sharp.cli import main
from sharp.engine.data import fast_signs


@pytest.mark.parametrize("cfg", [
    preset("feature", d=20, n=120, steps=8, seeds=3),  # full batch, quadratic: the fused fast path
    preset("kernel", d=16, n=96, m=64, steps=6, seeds=2),  # NTK scale, wider
    preset("feature", d=16, n=96, steps=6, seeds=2, online=True),  # fresh batches every step
    preset("feature", d=16, n=96, batch=48, steps=6, seeds=2),  # mini-batches from the set
    preset("feature", d=12, n=72, m=8, steps=6, seeds=2, activation="softplus", scale="ntk", eta=1.0),
], ids=["full-batch", "kernel", "online", "minibatch", "softplus"])
def test_engine_and_per_seed_baseline_compute_the_same_losses(cfg):
    ours, plain = engine(cfg), baseline(cfg)  # (steps, R), float32 both
    assert ours.shape == plain.shape == (cfg.steps, cfg.seeds)
    assert torch.allclose(ours.double(), plain.double(), rtol=0, atol=1e-5), (ours - plain).abs().max()
    assert (ours[-1] < ours[0]).all()  # and the runs did train: equal but frozen losses would prove nothing


def test_baseline_refuses_a_network_it_does_not_implement():
    with pytest.raises(ValueError, match="two-layer"):
        baseline(preset("feature", d=10, n=20, depth=2, activation="relu", steps=1))


def test_flops_count_the_two_big_matmuls_and_the_readout():
    cfg = preset("feature", d=100, m=20, n=600, seeds=16)
    assert flops_per_step(cfg) == 16 * 600 * (2 * 100 * 20 * 2 + 2 * 20)


def test_fast_signs_are_fair_and_fill_odd_sizes():
    g = torch.Generator().manual_seed(0)
    x = fast_signs(g, (3, 7, 5))  # 105 entries: not a multiple of 8, takes the copying path
    assert x.shape == (3, 7, 5) and set(x.unique().tolist()) == {-1.0, 1.0}
    out = torch.empty(400, 100)
    assert fast_signs(g, (400, 100), out=out) is out
    assert abs(out.mean().item()) < 0.02  # 40k fair signs: std of the mean 0.005
    cols = out.mean(0)  # every bit position of the 64-bit draws is used: no column stuck at one sign
    assert cols.abs().max().item() < 0.25  # 400 signs per column: std 0.05, so 5 sigma


def test_bench_quick_prints_the_table(capsys):
    assert main(["bench", "--quick", "--repeats", "1", "--silent"]) == 0
    out = capsys.readouterr().out
    assert "engine it/s" in out and "baseline it/s" in out and "% peak" in out
    for name in ("booth", "large"):
        row = next(line for line in out.splitlines() if line.startswith(name))
        numbers = [float(v) for v in re.findall(r"\d+\.\d+", row)]
        assert len(numbers) >= 5 and all(v > 0 for v in numbers[:5]), row
    assert re.search(r"Fig 1 reproduction .*: \d+\.\d+ s", out)


def test_bench_rejects_a_bad_repeat_count(capsys):
    assert main(["bench", "--quick", "--repeats", "0"]) == 2
    assert "--repeats=0" in capsys.readouterr().err


def test_report_judges_against_the_stated_targets():
    rep = run(quick=True, repeats=1)
    text = format_report(rep)
    assert "targets not judged" in text and "PASS" not in text  # quick sizes say nothing about speed
    full = {c.name: c for c in cases()}
    assert full["booth"].cfg.d == 100 and full["booth"].cfg.m == 20 and full["booth"].cfg.seeds == 16
    assert full["booth"].cfg.batch_size == 600 and full["booth"].min_ratio == 5
    large = full["large"].cfg
    assert (large.d, large.m, large.batch_size, large.seeds) == (400, 2048, 2400, 4)


def test_thread_budget_reads_sharp_threads_and_falls_back_to_at_most_two(monkeypatch):
    from sharp.engine.threads import engine_threads, thread_budget

    monkeypatch.setenv("SHARP_THREADS", "1")
    assert thread_budget() == 1
    for bad in ("zero", "0", "-3", ""):
        monkeypatch.setenv("SHARP_THREADS", bad)
        assert 1 <= thread_budget() <= 2
    before = torch.get_num_threads()
    try:
        assert engine_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("text, used, logged", [
    ("", 5, False), ("7", 7, False), (" 0 ", 0, False), ("19", 19, False),
    ("99", 19, True), ("-4", 0, True), ("seven", 5, True), ("1e3", 5, True),
])
def test_env_int_keeps_a_setting_in_its_range_and_logs_what_it_refused(monkeypatch, caplog, text, used, logged):
    from sharp.engine.threads import env_int

    monkeypatch.setenv("SHARP_LIVE_NICE", text)
    with caplog.at_level("WARNING", logger="sharp.engine.threads"):
        assert env_int("SHARP_LIVE_NICE", 5, 0, 19) == used
    assert bool(caplog.records) == logged
    if logged:  # names the variable, what it held, the range and the value used
        assert caplog.records[0].getMessage() == (f"$SHARP_LIVE_NICE is {text!r}, must be an integer from 0 to 19: "
                                                 f"using {used}")


def test_the_collector_frees_reference_cycles_that_the_interpreter_left_alone():
    import gc
    import time
    import weakref

    from sharp.serve.runtime import Collector

    class Module:  # stands in for a dead script module: its function refers back to it
        pass

    gc.disable()  # only the collector's own collections may free it
    collector = Collector(0.05).start()
    try:
        m = Module()
        m.self = m
        alive = weakref.ref(m)
        del m
        deadline = time.monotonic() + 5
        while (alive() is not None or not collector.collections) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert alive() is None, "the cycle was not collected within 5 s"
        assert collector.collections >= 1 and collector.longest_s > 0
    finally:
        collector.stop()
        gc.enable()
    assert not collector._thread.is_alive()


def test_keep_heap_stops_the_heap_being_trimmed_after_each_large_free():
    import resource
    import sys

    from sharp.engine.threads import keep_heap

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    assert keep_heap()  # importing sharp already did; calling again is harmless
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):  # 50 allocations of 8 MB, each freed: with the heap kept, the pages are reused
        torch.ones(2 << 20).sum()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 50 * 2048 / 4, faults  # trimmed each time: ~2048 faults per 8 MB block
