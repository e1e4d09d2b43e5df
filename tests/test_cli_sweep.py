"""`python -m sharp sweep`: a grid from flags to a CSV or Parquet file; bad input exits 2 with one line."""
import pandas as pd
import pytest

from sharp.cli import main
from sharp.engine import store as cache


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


ARGS = ["sweep", "--regime", "feature", "--d", "10,20", "--n", "60", "--steps", "3", "--seeds", "2",
        "--n-test", "100", "--quiet"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_sweep_writes_the_grid(tmp_path, capsys, suffix):
    out = tmp_path / f"grid.{suffix}"
    assert main([*ARGS, "--out", str(out)]) == 0
    df = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
    assert sorted(df.d.unique()) == [10, 20] and len(df) == 2 * 2 * 4
    assert (df.eta == 20.0).all() and (df.m == 20).all()  # the preset's scalars stand
    assert "wrote 16 rows (2 runs)" in capsys.readouterr().err


def test_scalar_flags_override_the_preset(tmp_path):
    out = tmp_path / "k.csv"
    assert main(["sweep", "--regime", "kernel", "--m", "32,64", "--d", "10", "--n", "40", "--steps", "2",
                 "--eta", "0.5", "--n-test", "50", "--quiet", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert sorted(df.m.unique()) == [32, 64] and (df.eta == 0.5).all() and (df.scale == "ntk").all()


def test_every_is_checked_against_the_grids_steps_not_the_presets(tmp_path):
    out = tmp_path / "long.csv"  # the preset's steps is 300: --every 400 is fine with --steps 800
    assert main(["sweep", "--regime", "feature", "--d", "10", "--n", "60", "--steps", "800",
                 "--every", "400", "--n-test", "100", "--quiet", "--out", str(out)]) == 0
    assert sorted(pd.read_csv(out).step.unique()) == [0, 400, 800]


@pytest.mark.parametrize("args, needle", [
    (["--steps", "100,800", "--every", "400"], "every=400 is not allowed: at most steps = 100"),
    (["--d", "10,x"], "--d takes comma-separated integers"),
    (["--m", "7"], "m=7 is not allowed"),
    (["--d", "5000"], "d=5000 is not allowed"),
    (["--eta", "-1"], "eta=-1.0 is not allowed"),
    (["--d", "2000", "--n", "20000", "--steps", "5000", "--m", "2048"], "Narrow it"),
])
def test_bad_grids_exit_2_with_one_line(tmp_path, capsys, args, needle):
    argv = ["sweep", "--regime", "kernel", *args, "--quiet", "--out", str(tmp_path / "x.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()


def test_bad_output_suffix(tmp_path, capsys):
    assert main([*ARGS, "--out", str(tmp_path / "x.txt")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err
