#!/usr/bin/env python
"""N replicas of the app behind nginx, on one address: a lecture hall on one machine.

    scripts/serve-replicas 3                  # or: make replicas N=3; prints the address to open
    scripts/serve-replicas 3 --port 8080 --host 0.0.0.0

Starts N `streamlit run app.py` processes on 127.0.0.1 (free ports), all with the same $SHARP_CACHE_DIR (the
disk store of finished live runs and sweeps, written atomically, so one replica's finished run is read by the
others), and nginx (from the OS packages: `apt-get install nginx`) in the foreground with a configuration
generated from deploy/nginx.conf.template in a temporary folder: no system service, nothing written outside
that folder. Each browser is pinned to one replica by a cookie (see the template); a replica that dies loses
its visitors to the others, which reconnect by themselves. Ctrl-C or SIGTERM stops everything it started;
the children also get SIGTERM if this process is killed outright (Linux's parent-death signal).

Only the first replica warms the paper pages' default figures (SHARP_WARM): the others read them from the
shared store instead of computing them a second time at once.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
STORE_ENV = "SHARP_CACHE_DIR"  # sharp.engine.store.ENV: every replica must see the same folder
HEALTH = "/_stcore/health"  # Streamlit's health endpoint, the same through the proxy
REPLICA_VAR, PORT_VAR = "SHARP_REPLICA", "SHARP_PROXY_PORT"  # the template's variables (docker-compose.yml sets them)
MAX_REPLICAS = 16


def render(template: str, replicas: Sequence[str], port: int) -> str:
    """The template with its variables filled: the upstream's server line once per replica address.

    Args:
        template: deploy/nginx.conf.template's text.
        replicas: the replicas' addresses, e.g. ["127.0.0.1:8502", "127.0.0.1:8503"].
        port: where nginx listens (an "address:port" string also works, as in nginx's listen).
    Returns:
        nginx configuration text (an http-context snippet).

    Example:
        >>> render(TEMPLATE.read_text(), ["127.0.0.1:8502"], 8501)
    """
    var = "${" + REPLICA_VAR + "}"
    out = []
    for line in template.splitlines():
        if var in line:
            if not line.strip().startswith("server "):
                raise ValueError(f"{REPLICA_VAR} may only stand in an upstream's server line: {line.strip()}")
            out += [line.replace(var, r) for r in replicas]
        else:
            out.append(line.replace("${" + PORT_VAR + "}", str(port)))
    text = "\n".join(out) + "\n"
    if "${" in text:
        raise ValueError("the template has a variable that is neither " + REPLICA_VAR + " nor " + PORT_VAR)
    return text


def nginx_conf(snippet: Path, prefix: Path) -> str:
    """A whole nginx.conf that runs in the foreground and keeps every file (pid, logs, buffers) under prefix."""
    return f"""daemon off;
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {snippet};
}}
"""


def nginx_binary() -> str | None:
    """The nginx program (PATH, then /usr/sbin, where Debian puts it), or None."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replica_env(env: Mapping[str, str], store: Path, i: int) -> dict[str, str]:
    """Replica i's environment: env with the shared store, and the paper pages' warm-up on the first replica only.

    Example:
        >>> replica_env(os.environ, Path("/srv/store"), 1)["SHARP_WARM"]  # '0'
    """
    out = {**env, STORE_ENV: str(store)}
    if i > 0:
        out["SHARP_WARM"] = "0"
    return out


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the process that started it dies (even by SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(url + HEALTH, timeout=2).read().strip() == b"ok"
    except OSError:
        return False


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with status {proc.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not healthy after {timeout:.0f} s; see {log}")
        time.sleep(0.3)


def _stop(proc: subprocess.Popen, grace: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Served:
    """What serve() started: the one address to open, the replicas (process and address) and nginx."""
    url: str
    replicas: list[tuple[subprocess.Popen, str]]
    nginx: subprocess.Popen
    folder: Path  # the generated configuration and every log
    store: Path
    gone: set[int] = field(default_factory=set)  # replicas already reported dead

    def log(self, i: int) -> Path:
        return self.folder / f"replica-{i + 1}.log"


@contextlib.contextmanager
def serve(n: int, port: int = 8501, host: str = "127.0.0.1", store: Path | None = None,
          env: Mapping[str, str] | None = None, timeout: float = 180) -> Iterator[Served]:
    """Start n replicas and nginx in front of them; yield once all answer; stop all of them on exit.

    Args:
        n: replicas, 1 to MAX_REPLICAS.
        port, host: where nginx listens (the replicas listen on 127.0.0.1, free ports).
        store: the shared disk store (default $SHARP_CACHE_DIR, else sharp's user cache folder).
        env: extra environment for the replicas (e.g. SHARP_THREADS).
        timeout: seconds each replica, then nginx, may take to answer its health check.
    Returns:
        (yields) a Served.

    Example:
        >>> with serve(3) as s: print(s.url)
    """
    if not 1 <= n <= MAX_REPLICAS:
        raise ValueError(f"replicas must be 1 to {MAX_REPLICAS}, got {n}")
    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx not found: install it from the OS packages (e.g. sudo apt-get install nginx)")
    if store is None:
        from sharp.engine.store import cache_dir  # the app's own default, so a later `make run` reads the same
        store = cache_dir()
    store = Path(store).resolve()
    store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sharp-replicas-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)  # nginx's workers (user nobody when started as root) read and buffer under it
        procs: list[subprocess.Popen] = []
        served = Served(f"http://{host if host not in ('0.0.0.0', '') else '127.0.0.1'}:{port}", [], None, folder,
                        store)
        try:
            for i in range(n):
                rport = free_port()
                cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                       "--server.port", str(rport), "--server.address", "127.0.0.1",
                       "--browser.gatherUsageStats", "false"]
                renv = replica_env({**os.environ, **(env or {})}, store, i)
                with open(served.log(i), "w") as log:
                    proc = subprocess.Popen(cmd, cwd=ROOT, env=renv, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=_die_with_parent)
                procs.append(proc)
                served.replicas.append((proc, f"127.0.0.1:{rport}"))
            for i, (proc, addr) in enumerate(served.replicas):
                _wait_healthy(f"http://{addr}", proc, timeout, served.log(i))
            snippet = folder / "sharp.conf"
            snippet.write_text(render(TEMPLATE.read_text(), [a for _, a in served.replicas], f"{host}:{port}"))
            conf = folder / "nginx.conf"
            conf.write_text(nginx_conf(snippet, folder))
            with open(folder / "nginx.log", "w") as log:
                served.nginx = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder), "-e", "stderr"],
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                                preexec_fn=_die_with_parent)
            procs.append(served.nginx)
            _wait_healthy(f"http://127.0.0.1:{port}", served.nginx, 20, folder / "nginx.log")
            yield served
        finally:
            for proc in reversed(procs):  # nginx first: no visitor is sent to a replica being stopped
                _stop(proc)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the same way as Ctrl-C: through serve()'s cleanup


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("replicas", type=int, help=f"app processes, 1 to {MAX_REPLICAS} (about one per core)")
    ap.add_argument("--port", type=int, default=8501, help="the proxy's port (default 8501)")
    ap.add_argument("--host", default="127.0.0.1", help="the proxy's address (0.0.0.0: every interface)")
    ap.add_argument("--store", type=Path, default=None,
                    help=f"the shared disk store (default ${STORE_ENV}, else the user's cache folder)")
    ns = ap.parse_args(argv)
    if not 1 <= ns.replicas <= MAX_REPLICAS:
        ap.error(f"replicas must be 1 to {MAX_REPLICAS}, got {ns.replicas}")
    if not 1 <= ns.port <= 65535:
        ap.error(f"--port must be 1 to 65535, got {ns.port}")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with serve(ns.replicas, ns.port, ns.host, ns.store) as s:
            print(f"{ns.replicas} replicas of sharp behind nginx; the store: {s.store}", flush=True)
            for i, (proc, addr) in enumerate(s.replicas):
                print(f"  replica {i + 1}: http://{addr} (pid {proc.pid}, log {s.log(i)})", flush=True)
            print(f"  nginx: pid {s.nginx.pid}, configuration {s.folder / 'sharp.conf'}", flush=True)
            print(f"Open {s.url}   (Ctrl-C stops everything)", flush=True)
            while s.nginx.poll() is None:
                for i, (proc, addr) in enumerate(s.replicas):
                    if proc.poll() is not None and i not in s.gone:
                        s.gone.add(i)
                        print(f"replica {i + 1} ({addr}) exited with status {proc.returncode}; its visitors "
                              f"reconnect to the others (see {s.log(i)})", flush=True)
                time.sleep(1)
            print(f"nginx exited with status {s.nginx.returncode}; see {s.folder / 'nginx.log'}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("stopped: nginx and every replica", flush=True)
        return 0
    except (RuntimeError, ValueError) as e:
        print(f"serve-replicas: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
