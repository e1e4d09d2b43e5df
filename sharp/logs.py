"""sharp's log lines: configured once per process, to stderr, one line per record.

Streamlit configures its own loggers only, and nothing configured the others: sharp's lines (the server's
start-up line, the store's and the thread settings' warnings) reached Python's last-resort handler (warnings
only, bare text) or nowhere. `configure` gives the "sharp" loggers (and any others named) one handler with a
time stamp and the logger's name; the root logger and other libraries' loggers are left as they are.

    >>> from sharp import logs
    >>> logs.configure()                  # $SHARP_LOG_LEVEL, else INFO; again later: only the level changes
    >>> logs.server_ready("http://0.0.0.0:8501/", workers=2, store="/srv/c")
    2026-12-03 09:40:01 INFO sharp.server: sharp 0.1.0 serving at http://0.0.0.0:8501/ with 2 live workers, store /srv/c
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"
SERVER_LOGGER = "sharp.server"


class _Handler(logging.StreamHandler):
    """The handler `configure` attaches (its class marks it, so a second call finds it instead of adding one).

    It writes to the stream given, else to sys.stderr as it is at each record (pytest's capsys, a redirect)."""

    def __init__(self, stream: TextIO | None = None):
        logging.Handler.__init__(self)  # not StreamHandler's, which would fix sys.stderr as it is now
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._stream = value


def level_from_env() -> int:
    """$SHARP_LOG_LEVEL (DEBUG, INFO, WARNING or ERROR, any case; sharp.settings), else INFO."""
    from sharp.settings import env

    return getattr(logging, env().log_level)


def configure(level: int | None = None, names: Iterable[str] = ("sharp",), stream: TextIO | None = None) -> None:
    """Give the loggers `names` (and their children) one stderr handler at `level` (None: $SHARP_LOG_LEVEL,
    else INFO). Idempotent: a later call changes the level and adds no second handler. The records still
    propagate to the root logger (pytest's caplog reads them there), which prints nothing unless configured.
    """
    names = tuple(names)
    for name in names:  # the handlers first: reading $SHARP_LOG_LEVEL may itself log a bad $SHARP_* value
        log = logging.getLogger(name)
        handler = next((h for h in log.handlers if isinstance(h, _Handler)), None)
        if handler is None:
            handler = _Handler(stream)
            handler.setFormatter(logging.Formatter(FORMAT, DATEFMT))
            log.addHandler(handler)
        else:
            handler.stream = stream
    level = level_from_env() if level is None else level
    for name in names:
        logging.getLogger(name).setLevel(level)


def address(host: str | None, port: int, base_path: str | None = "") -> str:
    """The server's address from its settings (Streamlit's server.address, server.port, server.baseUrlPath);
    no host: every interface, 0.0.0.0.

    Example:
        >>> address(None, 8501, "/demo/sharp/")
        'http://0.0.0.0:8501/demo/sharp/'
    """
    base = (base_path or "").strip("/")
    return f"http://{host or '0.0.0.0'}:{port}/" + (f"{base}/" if base else "")


def server_line(address: str, workers: int, store: str | Path) -> str:
    """The server's one start-up line: version, address, live workers and the store.

    Example:
        >>> server_line("http://0.0.0.0:8501/", 2, "/home/sharp/cache")
        'sharp 0.1.0 serving at http://0.0.0.0:8501/ with 2 live workers, store /home/sharp/cache'
    """
    from sharp import __version__

    return (f"sharp {__version__} serving at {address} with {workers} live worker{'s' if workers != 1 else ''}, "
            f"store {store}")


def server_ready(address: str, workers: int, store: str | Path) -> None:
    """Log `server_line` at INFO on "sharp.server" (call `configure` first, once, at the server's start)."""
    logging.getLogger(SERVER_LOGGER).info("%s", server_line(address, workers, store))


__all__ = ["address", "configure", "level_from_env", "server_line", "server_ready"]
