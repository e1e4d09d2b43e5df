"""Every flag combination is honoured or refused, never ignored; --out is checked before any computing.

Refusals exit 2 with one stderr line naming the flag or setting; a hypothesis test throws random
combinations (valid, invalid, repeated, misplaced) at main() and checks that, and that an accepted run
honours its flags (steps, every, seeds, batch).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sharp.cli import main
from sharp.engine import store as cache

TINY = ["--d", "8", "--n", "24", "--steps", "3", "--seeds", "2", "--n-test", "20"]


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def refused(argv: list[str], needle: str) -> str:
    rc, out, err = call(argv)
    assert rc == 2 and out == "", (rc, out, err)
    assert err.count("\n") == 1 and err.startswith("python -m sharp: error:") and "Traceback" not in err, err
    assert needle in err, err
    return err


@pytest.fixture
def no_compute(monkeypatch):
    """Any computing fails the test: what it checks must be refused before."""
    def boom(*args, **kwargs):
        raise AssertionError("computed before refusing")

    import sharp.engine.sweep  # noqa: F401 (the modules; the package re-exports functions of the same names)
    import sharp.engine.train  # noqa: F401
    import sharp.experiments.fig1  # noqa: F401

    monkeypatch.setattr(sys.modules["sharp.engine.sweep"], "sweep", boom)
    monkeypatch.setattr(sys.modules["sharp.experiments.fig1"], "figure1", boom)
    monkeypatch.setattr(sys.modules["sharp.engine.train"], "train", boom)


def test_online_with_batch_is_refused_and_names_n():
    err = refused(["run", "--regime", "feature", *TINY, "--online", "--batch", "50"], "batch=50 is not allowed")
    assert "set n to the batch size" in err


def test_batch_without_online_is_honoured():
    rc, out, _ = call(["run", "--regime", "feature", *TINY, "--batch", "6"])
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [r["samples"] for r in rows] == [0, 6, 12, 18]


@pytest.mark.parametrize("argv, needle", [
    (["run", "--regime", "feature", *TINY, "--d", "10"], "argument --d: given more than once"),
    (["run", "--regime", "feature", *TINY, "--online", "--online", "false"], "argument --online: given more"),
    (["run", "--regime", "feature", *TINY, "--scheduler", "local:2"], "unrecognized arguments: --scheduler"),
    (["run", "--regime", "feature", *TINY, "--out", "x.csv"], "unrecognized arguments: --out"),
    (["run", "--regime", "feature", "--d", "8", "--steps", "0", "--every", "2"], "every=2 is not allowed"),
    (["figure1", "--d", "8", "--every", "2"], "unrecognized arguments: --every"),
    (["figure1", "--d", "8", "--seeds", "0"], "seeds=0 is not allowed"),
    (["figure1", "--d", "8", "--seeds", "500"], "seeds=500 is not allowed"),
    (["figure1", "--d", "8,8"], "--d lists a value twice"),
    (["sweep", "--regime", "kernel", "--d", "8", "--out", "x.csv", "--max-minutes", "-1"], "--max-minutes=-1.0"),
    (["sweep", "--regime", "kernel", "--d", "8", "--out", "x.csv", "--max-minutes", "nan"], "--max-minutes='nan'"),
    (["sweep", "--regime", "kernel", "--d", "8", "--out", "x.csv", "--scheduler", "nowhere"], "scheduler='nowhere'"),
    (["sweep", "--regime", "kernel", "--d", "8", "--out", "x.csv", "--online", "--batch", "4"], "batch=4"),
    (["sweep", "--regime", "kernel", "--d", "8,8", "--out", "x.csv"], "--d lists a value twice"),
    (["bench", "--repeats", "0"], "--repeats=0"),
])
def test_flag_combinations_that_would_be_ignored_are_refused(no_compute, tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)  # any relative --out lands here
    refused(argv, needle)
    assert not list(tmp_path.glob("*.csv"))


def out_cases(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    return [
        (str(tmp_path / "no" / "such" / "dir" / "x.csv"), "No such file or directory"),
        (str(blocker / "x.csv"), "Not a directory"),
        (str(folder), "is a folder"),
        (str(tmp_path / ("a" * 300 + ".csv")), "File name too long"),
        (str(tmp_path / "x.txt"), "--out must end in"),
        (str(tmp_path / "x"), "--out must end in"),
        (str(tmp_path / "x.csv\x00.csv"), "cannot be written"),
        ("", "--out must end in"),
    ]


@pytest.mark.parametrize("command", ["figure1", "sweep"])
def test_output_path_is_checked_before_computing(no_compute, tmp_path, command):
    base = ["figure1", "--d", "8"] if command == "figure1" else ["sweep", "--regime", "feature", "--d", "8"]
    for path, needle in out_cases(tmp_path):
        err = refused([*base, "--out", path], needle)
        assert "--out" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.csv"]  # the checks leave nothing


def test_figure1_refuses_parquet_and_sweep_accepts_it(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("figure1 computed before refusing")

    import sharp.experiments.fig1  # noqa: F401 (the module: the package re-exports a function of the same name)

    with monkeypatch.context() as m:
        m.setattr(sys.modules["sharp.experiments.fig1"], "figure1", boom)
        refused(["figure1", "--d", "8", "--out", str(tmp_path / "x.parquet")], "--out must end in .csv")
    out = tmp_path / "grid.parquet"
    rc, _, err = call(["sweep", "--regime", "feature", *TINY, "--quiet", "--out", str(out)])
    assert rc == 0, err
    assert out.read_bytes()[:4] == b"PAR1"  # a Parquet file, not CSV text under that name
    assert len(pd.read_parquet(out)) == 2 * 4  # 2 seeds, steps 0 to 3


def test_an_existing_output_is_kept_until_the_new_one_is_written(tmp_path):
    out = tmp_path / "grid.CSV"  # any case of the suffix
    out.write_text("old")
    rc, _, err = call(["sweep", "--regime", "feature", *TINY, "--quiet", "--out", str(out)])
    assert rc == 0, err
    assert len(pd.read_csv(out)) == 2 * 4


def test_figure1_eta_follows_m_unless_given(tmp_path):
    out = tmp_path / "f.csv"
    base = ["figure1", "--d", "8", "--seeds", "1", "--steps", "2", "--n-test", "20", "--out", str(out)]
    assert call([*base, "--m", "40"])[0] == 0
    assert set(pd.read_csv(out).eta) == {40.0}
    assert call([*base, "--m", "40", "--eta", "5"])[0] == 0
    assert set(pd.read_csv(out).eta) == {5.0}


# --- random combinations ---

def flag(name: str, good: list[str], bad: list[str]) -> st.SearchStrategy[list[str]]:
    """The flag with a value, good four times as often as bad (so that many combinations run to the end)."""
    return st.sampled_from(good * 4 + bad).map(lambda v: [name, v])


NASTY = ["", "-1", "nan", "inf", "1e999", "abc", "５", "0x10", "--d", "8,8", "a\nb", "99999999999999999999"]
RUN_FLAGS = [
    flag("--d", ["4", "8"], ["1", "5000"]), flag("--n", ["8", "24"], ["0"]), flag("--steps", ["0", "2", "3"], ["-3"]),
    flag("--every", ["1", "2"], ["0", "50"]), flag("--seeds", ["1", "3"], ["0", "200"]),
    flag("--n-test", ["10", "30"], ["5"]), flag("--batch", ["0", "4"], ["100"]), flag("--m", ["4", "8"], ["7"]),
    flag("--k", ["1", "3"], ["9"]), flag("--depth", ["1", "2"], ["7"]), flag("--eta", ["0.5", "20"], ["0"]),
    flag("--activation", ["relu", "gelu"], ["tanh"]), flag("--scale", ["ntk"], ["lazy"]),
    flag("--noise", ["0.1"], ["0.9"]), flag("--seed", ["0", "7"], ["-1"]), flag("--device", ["cpu"], ["tpu"]),
    st.sampled_from([["--online"], ["--online", "true"], ["--online", "0"], ["--linearized"], ["--online", "maybe"]]),
    st.sampled_from([["--out", "x.csv"], ["--scheduler", "local:1"], ["--quick"], ["--bogus", "1"]]),
    st.sampled_from(NASTY).map(lambda v: ["--d", v]),
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(regime=st.sampled_from(["feature", "kernel"] * 3 + ["lazy"]),
       picks=st.lists(st.sampled_from(range(len(RUN_FLAGS) - 2)), max_size=6),
       misplaced=st.sampled_from([-2, -1, None]), data=st.data())
def test_random_run_flags_are_honoured_or_refused(regime, picks, misplaced, data):
    base = {"--regime": [regime], "--d": ["8"], "--n": ["24"], "--steps": ["3"], "--n-test": ["20"], "--m": ["8"]}
    extra = []
    for i in picks + ([misplaced] if misplaced is not None and data.draw(st.booleans()) else []):
        flag_, *values = data.draw(RUN_FLAGS[i])
        if flag_ in base and data.draw(st.integers(0, 4), label="replace"):  # else given twice: refused
            base[flag_] = values
        else:
            extra += [flag_, *values]
    argv = ["run"] + [a for flag_, values in base.items() for a in (flag_, *values)] + extra
    rc, out, err = call(argv)
    event(f"exit {rc}")
    assert rc in (0, 2)
    if rc == 2:
        assert err.count("\n") == 1 and err.startswith("python -m sharp: error:") and "Traceback" not in err, err
        return
    rows = [json.loads(line) for line in out.splitlines()]
    given_ = {}
    for i, a in enumerate(argv):  # the flags as main() took them (each is given at most once, or refused)
        if a.startswith("--"):
            given_[a] = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else "true"
    steps, every = int(given_["--steps"]), int(given_.get("--every", "1"))
    last = rows[-1]
    if last["diverged"]:
        return
    assert last["step"] == steps and last["final"]
    assert [r["step"] for r in rows] == sorted({*range(0, steps + 1, every), steps})
    assert len(last["test_error_seeds"]) == int(given_.get("--seeds", "4"))
    online = given_.get("--online", "false") in ("true", "1")
    batch = int(given_.get("--batch", "0"))
    per_step = int(given_["--n"]) if online or batch == 0 else batch
    assert last["samples"] == steps * per_step


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(["figure1", "sweep"]),
       args=st.lists(st.sampled_from([
           ["--d", "8"], ["--d", "8,16"], ["--seeds", "1"], ["--seeds", "2"], ["--steps", "2"], ["--steps", "0"],
           ["--m", "4"], ["--n-test", "20"], ["--eta", "2"], ["--every", "1"], ["--online"], ["--batch", "3"],
           ["--no-cache"], ["--quiet"], ["--max-minutes", "0"], ["--out", "OUT.csv"], ["--out", "OUT.parquet"],
       ]), max_size=5),
       bad=st.booleans().flatmap(lambda b: st.sampled_from([
           ["--d", "8,8"], ["--d", "x"], ["--seeds", "0"], ["--m", "5"], ["--n-test", "1"], ["--eta", "nan"],
           ["--max-minutes", "-2"], ["--out", "OUT.json"], ["--out", "nodir/OUT.csv"], ["--scheduler", "bad"],
           ["--regime", "feature"], ["--bogus"]]) if b else st.just([])))
def test_random_figure1_and_sweep_flags_are_honoured_or_refused(tmp_path_factory, command, args, bad):
    folder = tmp_path_factory.mktemp("out")
    chunks = {"--n-test": ["20"], "--steps": ["2"], "--seeds": ["1"], "--d": ["8"]}
    if command == "sweep":
        chunks |= {"--regime": ["feature"], "--n": ["16"], "--out": [str(folder / "grid.csv")], "--quiet": []}
    for flag_, *values in args + ([bad] if bad else []):  # replaces the base one (the run test repeats flags)
        chunks[flag_] = [v.replace("OUT", str(folder / "x")) for v in values]
    argv = [command] + [a for flag_, values in chunks.items() for a in (flag_, *values)]
    rc, out, err = call(argv)
    event(f"exit {rc}")
    assert rc in (0, 2)
    if rc == 2:
        assert err.count("\n") == 1 and err.startswith("python -m sharp: error:") and "Traceback" not in err, err
    elif command == "sweep" or "--out" in argv:
        written = [p for p in folder.iterdir()]
        assert len(written) == 1 and written[0].stat().st_size > 0
