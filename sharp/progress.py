"""Long command-line work's progress on stderr (`Progress`): a tqdm bar with the time left on a terminal, plain
lines elsewhere, nothing with --quiet. The command line's commands (sharp.cli) pass it to the engine's sweeps."""
from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Long command-line work's progress on stderr: a bar with the time left on a terminal, plain lines elsewhere.

    The engine reports in two ways, and a command passes both on: `line(message)` after each finished run
    ("[3/42] d=50 n=300 m=20 depth=1 done", the sweep's `progress`) or measurement (the benchmark), and
    `advance(done, total, message)` after every logged step, in estimated seconds of work (the sweep's
    `on_progress`). On a terminal a tqdm bar over that work shows the share done, the time spent and left,
    and the current run; finished runs' lines are written above it only with --verbose. Elsewhere (a pipe, a
    log file, CI) no bar and no control characters: each line as it comes, as before. --quiet: nothing.

    Example:
        >>> with Progress("sweep", mode="plain") as p:
        ...     df = sweep(configs, progress=p.line, on_progress=p.advance)
    """

    def __init__(self, label: str, mode: str = "auto", stream: TextIO | None = None):
        """mode: "auto" (a bar when the stream is a terminal, else "plain"), "bar", "plain", "verbose" (a bar
        or plain lines, and every line) or "quiet"."""
        self.stream = stream or sys.stderr
        tty = self.stream.isatty() if hasattr(self.stream, "isatty") else False
        self.bar_on = mode == "bar" or (mode in ("auto", "verbose") and tty)
        self.lines_on = mode in ("plain", "verbose") or (mode == "auto" and not tty)
        self.label = label
        self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def line(self, message: str) -> None:
        if not self.lines_on:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def advance(self, done: float, total: float, message: str) -> None:
        if not self.bar_on:
            return
        if self._bar is None:
            import shutil

            from tqdm import tqdm

            # the terminal's size (one that reports none, as under `script`: 100 x 24; tqdm would draw nothing)
            size = shutil.get_terminal_size((100, 24))
            self._bar = tqdm(total=total, desc=self.label, file=self.stream, ncols=size.columns, nrows=size.lines,
                             mininterval=0.2,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed} spent, {remaining} left"
                                        "{postfix}")
        self._bar.total = total  # a cached run can change the estimate
        self._bar.n = min(done, total)
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


__all__ = ["Progress"]
