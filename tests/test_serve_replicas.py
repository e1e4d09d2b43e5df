"""scripts/serve-replicas as a program, and the image's command on a platform's $PORT (no browser).

- It prints the one address to open; the address answers the health check through nginx, from a replica.
- SIGTERM, and Ctrl-C (SIGINT), stop everything it started: each replica, nginx, its temporary folder.
- The Dockerfile's command, run here as a platform runs it (PORT set), serves on that port.

Needs nginx (scripts/ensure-nginx): skipped without it, failed under CI.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_support import ROOT, free_port, missing
from test_replicas_topology import dockerfile_cmd, sr

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a child that exited but was not yet reaped by its parent is gone for our purpose
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def health(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url + sr.HEALTH, timeout=5) as r:
        return r.read().strip(), r.headers.get("X-Upstream", "")


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float) -> list[str]:
    """The program's output lines up to the first one starting with prefix (bounded by timeout)."""
    lines, deadline = [], time.monotonic() + timeout
    fd, buffer = proc.stdout.fileno(), ""
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([fd], [], [], 0.2)[0]:
            buffer += os.read(fd, 65536).decode()
        *done, buffer = buffer.split("\n")
        lines += done
        if any(line.startswith(prefix) for line in lines):
            return lines
    raise AssertionError(f"no line starting {prefix!r} within {timeout} s: {lines + [buffer]}")


def buffer_rest(proc: subprocess.Popen) -> str:
    """The rest of the program's output, once it has exited (bounded)."""
    out, _ = proc.communicate(timeout=60)
    return out.decode()


@pytest.mark.parametrize("stop, replicas", [(signal.SIGTERM, 2), (signal.SIGINT, 1)])
def test_it_serves_one_address_and_stops_everything_it_started(stop, replicas, tmp_path):
    if sr.nginx_binary() is None:
        missing("nginx not found: run scripts/ensure-nginx (or apt-get install nginx)")
    port = free_port()
    proc = subprocess.Popen([str(ROOT / "scripts" / "serve-replicas"), str(replicas), "--port", str(port),
                             "--store", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "SHARP_THREADS": "1"}, start_new_session=True)
    try:
        lines = wait_for_line(proc, "Open ", 180)
        pids = [int(p) for p in re.findall(r"pid (\d+)", "\n".join(lines))]
        folder = Path(re.search(r"configuration (\S+)/sharp.conf", "\n".join(lines)).group(1))
        assert len(pids) == replicas + 1 and all(map(alive, pids)) and folder.is_dir()
        assert lines[-1].startswith(f"Open http://127.0.0.1:{port}")
        body, upstream = health(f"http://127.0.0.1:{port}")
        assert body == b"ok" and upstream in re.findall(r"http://(127\.0\.0\.1:\d+) ", "\n".join(lines))
        proc.send_signal(stop)
        out = buffer_rest(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0 and "stopped: nginx and every replica" in out
    deadline = time.monotonic() + 10  # the supervisor waited for each; its children's children may lag a little
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(alive, pids)), [p for p in pids if alive(p)]
    assert not folder.exists()
    with pytest.raises(OSError):
        health(f"http://127.0.0.1:{port}")


def test_it_refuses_a_bad_number_of_replicas():
    out = subprocess.run([str(ROOT / "scripts" / "serve-replicas"), "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "replicas must be 1 to 16, got 0" in out.stderr


def test_the_images_command_serves_on_the_platforms_port():
    """The Dockerfile's CMD, as a platform that sets $PORT runs it (with this checkout's Python as `python`)."""
    command = json.loads(dockerfile_cmd()[len("CMD "):])
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "SHARP_THREADS": "1"}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline, body = time.monotonic() + 120, None
        while body != b"ok" and time.monotonic() < deadline and proc.poll() is None:
            try:
                body = health(f"http://127.0.0.1:{port}")[0]
            except OSError:
                time.sleep(0.3)
        assert body == b"ok", f"nothing answered on $PORT={port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
