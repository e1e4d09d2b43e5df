"""The environment's settings (sharp/settings.py): every $SHARP_* variable read in one place, checked, defaulted,
its refusal in the one message format, and each one in README's Configuration table."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sharp import settings
from sharp.settings import env, var, variables

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_follow_the_machine():
    e = env({})
    cores = os.cpu_count() or 1
    assert e.threads == 1 and e.workers == cores and e.active is None  # a worker per core, a thread each
    assert (e.memory_mb, e.nice, e.warm, e.warm_pages) == (128, 5, True, ())
    assert e.scheduler is None and e.digits_dir is None and e.public_url is None and not e.problems
    assert env({"SHARP_WORKERS": "3"}).workers == 3
    assert env({"SHARP_THREADS": "2"}).workers == max(1, cores // 2)  # two torch threads per job: half as many


@pytest.mark.parametrize("text, used, refused", [
    ("", 5, False), ("7", 7, False), (" 0 ", 0, False), ("19", 19, False), ("1e1", 10, False),
    ("99", 19, True), ("-4", 0, True), ("seven", 5, True), ("7.5", 5, True), ("1_0", 5, True), ("inf", 5, True),
])
def test_a_number_is_kept_in_its_range_and_a_refusal_names_it(caplog, text, used, refused):
    settings._said.clear()
    with caplog.at_level("WARNING", logger="sharp.settings"):
        e = env({"SHARP_NICE": text})
    assert e.nice == used and ("SHARP_NICE" in e.problems) == refused == bool(caplog.records)
    if refused:  # the variable, what it held, the range and the value used
        assert e.problems["SHARP_NICE"] == f"$SHARP_NICE={text.strip()!r} is not allowed: an integer from 0 to 19; " \
                                           f"using {used}" == caplog.records[0].getMessage()
    env({"SHARP_NICE": text})
    assert len(caplog.records) == refused  # logged once per value, not at every read


@pytest.mark.parametrize("text, warm", [("0", False), ("off", False), ("No", False), ("1", True), ("yes", True),
                                        ("", True), ("maybe", True)])
def test_the_warm_up_switch_reads_booleans_as_everything_else_does(text, warm):
    e = env({"SHARP_WARM": text})
    assert e.warm is warm and ("SHARP_WARM" in e.problems) == (text == "maybe")


def test_lists_paths_and_addresses():
    e = env({"SHARP_WARM_PAGES": " samples, ,deep", "SHARP_CACHE_DIR": "/tmp/x", "SHARP_SCHEDULER": " tcp://h:8786 ",
             "SHARP_DIGITS_DIR": "/data/mnist"})
    assert e.warm_pages == ("samples", "deep") and e.cache_dir == Path("/tmp/x") and e.scheduler == "tcp://h:8786"
    assert e.digits_dir == "/data/mnist"


def test_the_public_address_is_checked():
    assert env({"SHARP_PUBLIC_URL": " https://b.example.org/ "}).public_url == "https://b.example.org"
    assert env({"SHARP_PUBLIC_URL": "http://10.0.0.5:8501"}).public_url == "http://10.0.0.5:8501"
    e = env({"SHARP_PUBLIC_URL": "booth.example.org"})
    assert e.public_url is None and e.problems[var("public_url")].startswith(
        "$SHARP_PUBLIC_URL='booth.example.org' is not allowed: an http:// or https:// address")


def test_no_module_reads_a_sharp_variable_but_the_settings():
    """Every $SHARP_* variable is read by sharp/settings.py alone (the pages, the server and the CLI ask it)."""
    reads = re.compile(r"(os\.environ|getenv)\b[^\n]*SHARP_|environ\.get\(\s*[A-Z_]*ENV")
    found = [str(p.relative_to(ROOT)) for top in ("sharp", "ui", "web", "views") for p in (ROOT / top).rglob("*.py")
             if p.name != "settings.py" and reads.search(p.read_text())]
    found += ["app.py"] if reads.search((ROOT / "app.py").read_text()) else []
    assert not found, found


def test_readme_documents_every_variable_in_one_table():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(SHARP_\w+)` \|", section, re.M))
    assert documented == {f.metadata["var"] for f in variables()}


def test_a_bad_value_does_not_stop_the_command_line(tmp_path):
    # the CLI reads $SHARP_THREADS through the settings: a bad one is logged and the default used
    p = subprocess.run([sys.executable, "-m", "sharp", "run", "--regime", "feature", "--d", "8", "--steps", "1",
                        "--n-test", "10", "--seeds", "1"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "SHARP_THREADS": "many", "SHARP_CACHE_DIR": str(tmp_path)}, cwd=ROOT)
    assert p.returncode == 0 and '"step": 1' in p.stdout, p.stderr
