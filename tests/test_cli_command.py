"""The installed `sharp` command: the same subcommands as `python -m sharp`, --version, --quiet/--verbose,
logging configured once (sharp.logs), and long work's progress: a bar with the time left on a terminal, plain
lines elsewhere.

The terminal is a real pseudo-terminal (pty) of a given size on the command's stderr; "elsewhere" is a pipe.
Every read of the terminal is bounded in time.
"""
from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import sharp
from sharp import logs
from sharp.cli import Progress, main

ROOT = Path(__file__).resolve().parent.parent
SHARP = Path(sys.executable).parent / "sharp"  # what `pip install .` (make install) puts beside python
TINY_RUN = ["run", "--regime", "feature", "--d", "10", "--n", "40", "--steps", "3", "--seeds", "2", "--n-test", "50"]
GRID = ["sweep", "--regime", "feature", "--d", "8,12,16", "--n", "48", "--steps", "20", "--seeds", "2",
        "--n-test", "50", "--no-cache"]


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "SHARP_CACHE_DIR": str(tmp_path / "cache"), **extra}


def installed() -> Path:
    if not SHARP.exists():
        pytest.fail(f"{SHARP} is missing: the project is not installed in this environment (make install)")
    return SHARP


@pytest.mark.slow
def test_the_installed_command_runs_the_same_subcommands_as_python_m_sharp(tmp_path):
    by_command = subprocess.run([str(installed()), *TINY_RUN], capture_output=True, text=True, timeout=120,
                                env=env(tmp_path))
    by_module = subprocess.run([sys.executable, "-m", "sharp", *TINY_RUN], capture_output=True, text=True,
                               timeout=120, env=env(tmp_path))
    assert by_command.returncode == by_module.returncode == 0, by_command.stderr + by_module.stderr
    rows = [[{k: v for k, v in json.loads(line).items() if k != "elapsed"} for line in p.stdout.splitlines()]
            for p in (by_command, by_module)]  # every number but the wall-clock time
    assert rows[0] == rows[1] and [r["step"] for r in rows[0]] == [0, 1, 2, 3]
    helps = [subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env(tmp_path)).stdout
             for cmd in ([str(SHARP), "--help"], [sys.executable, "-m", "sharp", "--help"])]
    assert helps[0].startswith("usage: sharp ") and helps[1].startswith("usage: python -m sharp ")
    for sub in ("run", "figure1", "bench", "sweep"):
        assert sub in helps[0] and sub in helps[1]
    # a refusal names the command as it was called
    bad = subprocess.run([str(SHARP), "run", "--regime", "lazy"], capture_output=True, text=True, timeout=60,
                         env=env(tmp_path))
    assert bad.returncode == 2 and bad.stderr.startswith("sharp: error:") and bad.stderr.count("\n") == 1


def test_version_names_sharp_torch_and_python(tmp_path):
    from importlib import metadata

    p = subprocess.run([str(installed()), "--version"], capture_output=True, text=True, timeout=60, env=env(tmp_path))
    assert p.returncode == 0
    assert p.stdout.strip() == (f"sharp {sharp.__version__} (torch {metadata.version('torch')}, "
                                f"Python {sys.version.split()[0]})")


def test_quiet_and_verbose_set_the_log_level_before_or_after_the_subcommand(capsys):
    log = logging.getLogger("sharp")
    try:
        assert main(["--quiet", *TINY_RUN]) == 0
        assert log.level == logging.WARNING
        assert main([*TINY_RUN, "-v"]) == 0
        assert log.level == logging.DEBUG
        assert main(TINY_RUN) == 0
        assert log.level == logging.INFO
        capsys.readouterr()
        assert main(["-q", *TINY_RUN, "--verbose"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--quiet and --verbose" in err
    finally:
        log.setLevel(logging.NOTSET)


def test_sharps_own_warnings_reach_stderr_once_in_the_log_format(tmp_path):
    """A bad $SHARP_THREADS is logged by sharp.settings: through sharp.logs' handler, once (not bare, as
    Python's last-resort handler printed it); --quiet keeps warnings."""
    for flags in ([], ["--quiet"]):
        p = subprocess.run([sys.executable, "-m", "sharp", *flags, *TINY_RUN], capture_output=True, text=True,
                           timeout=120, env=env(tmp_path, SHARP_THREADS="many"))
        assert p.returncode == 0, p.stderr
        lines = [line for line in p.stderr.splitlines() if "$SHARP_THREADS" in line]
        assert len(lines) == 1, p.stderr
        said = "$SHARP_THREADS='many' is not allowed: an integer from 1 to 256; using 1"
        assert f" WARNING sharp.settings: {said}" in lines[0]


@pytest.mark.slow
def test_not_on_a_terminal_progress_is_plain_lines(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sharp", *GRID, "--out", str(tmp_path / "g.csv")],
                       capture_output=True, text=True, timeout=300, env=env(tmp_path))
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == ["[1/3] d=8 n=48 m=20 depth=1 done", "[2/3] d=12 n=48 m=20 depth=1 done",
                                     "[3/3] d=16 n=48 m=20 depth=1 done", "wrote 126 rows (3 runs) to "
                                     + str(tmp_path / "g.csv")]
    quiet = subprocess.run([sys.executable, "-m", "sharp", "--quiet", *GRID, "--out", str(tmp_path / "q.csv")],
                           capture_output=True, text=True, timeout=300, env=env(tmp_path))
    assert quiet.returncode == 0 and quiet.stderr.splitlines() == ["wrote 126 rows (3 runs) to "
                                                                   + str(tmp_path / "q.csv")]


def read_terminal(cmd: list[str], tmp_path: Path, columns: int = 100, timeout_s: float = 300) -> tuple[int, str]:
    """Run cmd with its stderr on a pseudo-terminal of `columns` x 30 (0: one that reports no size, as under
    `script` or some CI runners); (exit status, what the terminal got)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30 if columns else 0, columns, 0, 0))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, env=env(tmp_path, COLUMNS=""))
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the command closed the terminal: it has ended
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        else:
            pytest.fail(f"{cmd[3:5]} did not end within {timeout_s:g} s")
        return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.slow
@pytest.mark.parametrize("command, columns", [("sweep", 100), ("figure1", 100), ("sweep", 0)])
def test_on_a_terminal_progress_is_a_bar_with_the_time_left(tmp_path, command, columns):
    if command == "sweep":
        args = [*GRID, "--out", str(tmp_path / "g.csv")]
    else:
        args = ["figure1", "--d", "8,12,16", "--seeds", "2", "--steps", "4", "--n-test", "50", "--no-cache",
                "--out", str(tmp_path / "f.csv")]
    rc, screen = read_terminal([sys.executable, "-m", "sharp", *args], tmp_path, columns)
    assert rc == 0, screen
    frames = [f for f in screen.replace("\n", "\r").split("\r") if "%|" in f]
    assert frames, screen
    # each redraw: the command, the share done, a bar, the time spent and left, the run under way; one line
    # within the terminal's 100 columns (tqdm draws nothing on a terminal of no size: then 100 columns)
    assert all(f.startswith(f"{command} ") and " spent, " in f and " left" in f and len(f) <= 100 for f in frames)
    assert any("[2/3] d=12" in f for f in frames) and "100%|" in frames[-1]
    assert any(" left, [" in f and "step" in f for f in frames)  # redrawn within a run, at its logged steps
    # no plain lines on a terminal (the bar says it all), unless --verbose
    assert not [s for s in re.split(r"[\r\n]+", screen) if s.startswith("[")]
    assert screen.rstrip().splitlines()[-1].startswith("wrote ")


def test_progress_modes():
    """The helper itself: what each mode writes for the same reports."""
    def feed(mode: str, tty: bool) -> str:
        class Stream(io.StringIO):
            def isatty(self) -> bool:
                return tty

        s = Stream()
        with Progress("sweep", mode, stream=s) as p:
            p.advance(1.0, 4.0, "[1/2] d=8 step 5")
            p.line("[1/2] d=8 done")
            p.advance(4.0, 4.0, "[2/2] d=16 done")
            p.line("[2/2] d=16 done")
        return s.getvalue()

    plain = "[1/2] d=8 done\n[2/2] d=16 done\n"
    assert feed("auto", tty=False) == plain and feed("plain", tty=True) == plain
    assert feed("quiet", tty=True) == feed("quiet", tty=False) == ""
    bar = feed("auto", tty=True)
    assert "25%|" in bar and "100%|" in bar and " left, [2/2] d=16 done" in bar and "d=8 done\n" not in bar
    verbose = feed("verbose", tty=True)
    assert "100%|" in verbose and "[1/2] d=8 done\n" in verbose  # the lines above the bar
    assert feed("verbose", tty=False) == plain


def test_logs_configure_is_idempotent_and_the_server_line_says_address_workers_and_store(monkeypatch):
    out = io.StringIO()
    names = ("sharp", "sharp_test_other")
    try:
        logs.configure(logging.INFO, names=names, stream=out)
        logs.configure(logging.INFO, names=names, stream=out)  # again: no second handler
        assert sum(isinstance(h, logs._Handler) for h in logging.getLogger("sharp").handlers) == 1
        logs.server_ready("http://0.0.0.0:8501/", workers=2, store="/srv/store")
        logging.getLogger("sharp_test_other.x").info("another package's line")
        logging.getLogger("sharp.engine.store").debug("hidden at INFO")
        lines = out.getvalue().splitlines()
        assert len(lines) == 2, lines
        assert lines[0].endswith(f" INFO sharp.server: sharp {sharp.__version__} serving at http://0.0.0.0:8501/ "
                                 "with 2 live workers, store /srv/store")
        assert lines[1].endswith(" INFO sharp_test_other.x: another package's line")
        logs.configure(logging.WARNING, names=names, stream=out)
        logs.server_ready("http://0.0.0.0:8501/", workers=1, store="/srv/store")
        assert len(out.getvalue().splitlines()) == 2  # --quiet: the start-up line is not shown
        assert logs.server_line("http://h:1/", 1, Path("/s")).endswith("with 1 live worker, store /s")
        assert logs.address(None, 8501, "") == "http://0.0.0.0:8501/"
        assert logs.address("127.0.0.1", 8080, "/demo/sharp/") == "http://127.0.0.1:8080/demo/sharp/"
        assert logs.address("", 80, "demo") == "http://0.0.0.0:80/demo/"
    finally:
        for name in names:
            log = logging.getLogger(name)
            log.handlers = [h for h in log.handlers if not isinstance(h, logs._Handler)]
            log.setLevel(logging.NOTSET)


def test_the_log_level_from_the_environment(monkeypatch):
    from sharp.settings import env

    monkeypatch.setenv("SHARP_LOG_LEVEL", "debug")
    assert logs.level_from_env() == logging.DEBUG
    monkeypatch.setenv("SHARP_LOG_LEVEL", "loud")
    assert logs.level_from_env() == logging.INFO
    assert env().problems["SHARP_LOG_LEVEL"] == ("$SHARP_LOG_LEVEL='loud' is not allowed: one of DEBUG, INFO, "
                                                 "WARNING, ERROR; using INFO")
