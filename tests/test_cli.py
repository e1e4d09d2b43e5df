import json
import subprocess
import sys

import pandas as pd
import pytest

from sharp.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "sharp", *args], capture_output=True, text=True, timeout=120)


def test_run_prints_one_json_object_per_logged_step():
    p = run("run", "--regime", "feature", "--d", "20", "--n", "60", "--steps", "6", "--every", "2", "--seeds",
            "3", "--online")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["step"] for r in rows] == [0, 2, 4, 6]
    for key in ("step", "test_error", "test_loss", "train_loss", "distance", "diverged"):
        assert key in rows[0]
    assert len(rows[-1]["test_error_seeds"]) == 3 and len(rows[-1]["distance_seeds"]) == 3
    assert rows[-1]["samples"] == 6 * 60  # --online: a fresh batch of n every step


def test_every_config_field_is_a_flag():
    from sharp.cli import build_parser
    from sharp.engine.config import fields

    help_text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for f in fields():
        assert "--" + f.name.replace("_", "-") in help_text


def test_diverged_run_reports_it_and_exits_cleanly():
    p = run("run", "--regime", "feature", "--d", "20", "--eta", "100000", "--steps", "50")
    assert p.returncode == 0
    last = json.loads(p.stdout.splitlines()[-1])
    assert last["diverged"] is True and last["test_error"] is None  # NaN becomes null: valid JSON


@pytest.mark.parametrize("args, words", [
    (["run", "--regime", "feature", "--d", "1"], "d=1"),
    (["run", "--regime", "feature", "--d", "ten"], "--d"),
    (["run", "--regime", "lazy"], "--regime"),
    (["run", "--regime", "kernel", "--activation", "tanh"], "activation"),
    (["run", "--regime", "kernel", "--eta", "inf"], "--eta='inf' is not allowed"),
    (["figure1", "--d", "25,abc"], "--d"),
    (["figure1", "--d", "1"], "d=1"),
    (["bogus"], "bogus"),
    ([], "command"),
])
def test_bad_arguments_exit_2_with_one_line(args, words, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err


def test_figure1_writes_a_tidy_csv(tmp_path):
    out = tmp_path / "fig1.csv"
    p = run("figure1", "--d", "16,32", "--seeds", "2", "--steps", "5", "--n-test", "500", "--out", str(out))
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(out)
    assert {"d", "seed", "step", "test_error", "distance"} <= set(df.columns)
    assert len(df) == 2 * 2 * 6 and sorted(df.d.unique()) == [16, 32]
    assert "ceil(ln d)" in p.stdout
