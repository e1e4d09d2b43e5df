"""The paper pages' controller: their sweeps through the server's pool, their settings in the URL, their
charts with a text alternative, their data as CSV.

`compute` gets a sweep from the server's one pool (sharp.serve.pool.shared: computed once per server,
shared by every session, kept in memory and in the disk store) and shows its progress with a Cancel button. The
figures themselves are ui.paper_figures.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sharp.engine.config import ConfigError
from sharp.engine.sweep import TooBig, runs_on
from sharp.experiments import job_key, params
from sharp.experiments.params import Param
from sharp.serve.jobs import FunctionJob, Status
from sharp.serve.placement import from_env
from sharp.serve.pool import shared
from ui.charttext import figure_text

# The estimated compute one page may start (seconds on this machine); larger grids are refused.
PAGE_MAX_SECONDS = 150.0


def compute(page: str, settings: dict[str, Any], fn: Callable[..., pd.DataFrame]) -> pd.DataFrame | None:
    """The page's sweep at these settings, computed once per server and shared by every session.

    The first session that asks submits the job to the server's pool; a session that asks for the same
    page and settings while it runs (or after the server's warm-up started it) watches the same
    job: a progress bar saying whose it is, and a Cancel button. Cancel detaches this visitor only; the job
    stops when nobody else waits for it, unless it is the warm-up's. Finished runs stay in the disk cache, so
    pressing Run again resumes quickly. A grid too large (TooBig) or a bad setting (ConfigError) is shown as
    an error naming what to change.

    Args:
        page: a short name, unique per page (prefixes the session keys and the job key).
        settings: the settings that decide the numbers; the job is shared per their JSON.
        fn: called on the job's thread as fn(on_progress=..., cancel=...); returns the tidy frame. It must
            not call Streamlit.
    Returns:
        The frame, or None when cancelled or refused (a message has been shown).
    """
    key = job_key(page, settings)
    pool = shared()
    ctx = get_script_run_ctx()
    who = ctx.session_id if ctx else "no-session"
    previous = st.session_state.get(f"{page}_job")
    if previous and previous != key and (old := pool.peek(previous)) is not None:
        pool.leave(old, who)  # new settings: stop waiting for the old ones (the job stops if nobody else waits)
    st.session_state[f"{page}_job"] = key
    if st.session_state.get(f"{page}_cancel"):
        st.session_state[f"{page}_cancelled"] = key
        if (entry := pool.peek(key)) is not None:
            pool.leave(entry, who)
    if st.session_state.get(f"{page}_cancelled") == key:
        st.info("Cancelled. Runs that finished are kept in the cache: press **Run** to continue from there.")
        return None
    place = from_env()  # None unless $SHARP_SCHEDULER names a Dask scheduler
    if place is not None:
        st.info(place.message)

    def on_cluster(**kw: Any) -> pd.DataFrame:  # in the job's thread: the runner is a context variable
        with runs_on(place.runner):
            return fn(**kw)

    remote = place is not None and place.runner is not None
    job = pool.submit(key, lambda: FunctionJob(on_cluster if remote else fn), who, local=not remote)
    if not job.wait(0.05):
        bar = st.progress(0.0, text="Starting...")
        slot = st.empty()  # the Cancel button goes away with the progress bar
        slot.button("Cancel", key=f"{page}_cancel")
        # bounded (a page's sweep is capped far below this); the bar's update raises to stop if the visitor left
        pool.attend(job, who, 4 * 3600, POLL_S, lambda status: bar.progress(status.fraction,
                                                                             text=progress_text(status)))
        bar.empty()
        slot.empty()
    error = job.job.error
    if job.state == "failed":
        if isinstance(error, TooBig):
            st.error(f"Too much work for one page: {error}")
        elif isinstance(error, ConfigError):
            st.error(f"A setting is out of range: {error}")
        else:
            st.error(f"The computation failed: {error or job.error}")
        return None
    if job.state != "done":
        st.info("Stopped (nobody was waiting for it). Press **Run** to continue from the runs already cached.")
        return None
    return job.job.result


POLL_S = 0.25  # how often a waiting page redraws its progress bar


def experiment_frame(page: str, exp: Any, s: dict[str, Any], missing: str | None = None) -> pd.DataFrame:
    """The page's frame for an experiment of sharp.experiments at the settings s, through `compute`.

    Stops the script (st.stop) with `missing` as a hint when the visitor's choice leaves nothing to compute,
    and when the sweep is cancelled or refused (compute has said why).
    """
    if missing:
        st.info(missing)
        st.stop()
    df = compute(page, exp.settings(s), lambda **kw: exp.run(s, max_seconds=PAGE_MAX_SECONDS, **kw))
    if df is None:
        st.stop()
    return df


def progress_text(status: Status) -> str:
    """The progress bar's line: where the sweep is, and whose it is."""
    if status.state == "queued":
        return f"Waiting: {status.ahead} sweep{'s' if status.ahead != 1 else ''} ahead (other visitors' settings)"
    runs = f"{status.runs_done} of {status.runs_total} runs" if status.runs_total else "starting"
    line = f": {status.message}" if status.message else ""
    if status.warm:
        return f"Being computed for everyone, {runs}{line}"
    others = status.watchers - 1
    shared = f" (shared with {others} other visitor{'s' if others > 1 else ''})" if others > 0 else ""
    return f"{runs}{shared}{line}"


# Each paper page's URL parameters (name -> sharp.experiments.params.Param), registered by start() for ran().
URL_PARAMS: dict[str, dict[str, Param]] = {}


def start(page: str, defaults: dict[str, Any], spec: dict[str, Param] | None = None) -> None:
    """Seed the page's widget keys: from the URL on the session's first visit (when a spec is given), else defaults.

    Each bad URL value keeps its default and is named in a warning (sharp.experiments.params), shown until the
    form runs.

    Args:
        page: the page's short name (prefixes its session keys).
        defaults: setting -> default value; tests may set the keys `{page}_{setting}` first.
        spec: setting -> sharp.experiments.params.Param, for the settings a link may carry (the form's ranges).
    Example: start("fig1", {"seeds": 5}, {"seeds": Int(1, 20)})  # /figure1?seeds=3 opens with 3 seeds
    """
    ss = st.session_state
    if spec is not None:
        URL_PARAMS[page] = spec
        if f"{page}_url_problems" not in ss:
            values, ss[f"{page}_url_problems"] = params.parse(st.query_params, spec, defaults)
            for name, value in values.items():
                ss[f"{page}_{name}"] = value
        for problem in ss[f"{page}_url_problems"].values():
            st.warning(problem)
    for name, value in defaults.items():
        ss.setdefault(f"{page}_{name}", value)


def ran(page: str) -> None:
    """Call when the page's Run button is pressed: forget a previous Cancel, put the settings in the URL (a link
    to share) and retire the URL's warnings."""
    ss = st.session_state
    ss[f"{page}_cancelled"] = None
    spec = URL_PARAMS.get(page)
    if spec is None:
        return
    st.query_params.from_dict({name: params.to_text(ss[f"{page}_{name}"]) for name in spec})
    if ss.get(f"{page}_url_problems"):
        ss[f"{page}_url_problems"] = {}
        st.rerun()  # the warnings were drawn above the form in this run already


IMAGE = {"format": "png", "scale": 2}  # the chart's camera button: a PNG at twice the size on screen


def chart(fig: go.Figure, key: str, where: Any = None) -> None:
    """Draw a Plotly chart with its text alternative under it: the chart's values in words (ui.charttext), in
    a collapsed expander that a screen reader reaches right after the chart. The chart's camera button
    downloads it as a PNG named after the page (`key`)."""
    where = st if where is None else where
    where.plotly_chart(fig, key=key, config={"toImageButtonOptions": {**IMAGE, "filename": key}})
    with where.expander("This chart's values as text"):
        st.markdown(figure_text(fig))


def download(df: pd.DataFrame, name: str, key: str) -> None:
    """A CSV download button for the page's data."""
    st.download_button("Download the data (CSV)", df.to_csv(index=False).encode(), file_name=name, mime="text/csv",
                       key=key)
