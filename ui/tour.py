"""The guided tour's page controller: six steps, each with one idea, one control, one question and an answer shown
on request. Every number a step states is read off the run it shows (sharp.experiments.tour); the figure builders
here are pure (data in, Plotly figure out). The neuron-trajectories page shares the runs of steps 2 and 3
(`fixed_runs`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sharp.experiments import paper, sentences
from sharp.experiments import tour as T
from sharp.experiments.claims import TABLE1, TABLE2
from sharp.experiments.pages import PAGES
from sharp.experiments.trajectory import Trajectory
from sharp.serve.jobs import FunctionJob
from sharp.serve.pool import shared
from ui import claims, trajectories
from ui import paper as paper_ui  # paper_ui.compute looked up at each call (tests may stand in for it)
from ui.palette import MUTED, NEUTRAL, REGIME
from ui.paper import PAGE_MAX_SECONDS
from ui.paper_figures import deep_loss_vs_n, layout, samples_figure
from ui.ticks import log_ticks

P = "tour"
STEPS, DS_TASK, KERNEL_MS, FEATURE_ETAS, DS_POWER = T.STEPS, T.DS_TASK, T.KERNEL_MS, T.FEATURE_ETAS, T.DS_POWER
DEFAULTS = {"step": 1, "d1": 100, "m": 1024, "eta": 20.0, "d4": 100, "target": 0.02, "L": 1}


# --- figures (pure) -------------------------------------------------------------------------------------------

def task_figure(task: T.Task, most: int = 60) -> go.Figure:
    """The label's sample correlation with each coordinate x_i (the first `most`) and with x_1 x_2."""
    k = min(task.d, most)
    names = [f"x{i + 1}" for i in range(k)] + ["x1·x2"]
    vals = list(task.corr[:k]) + [task.corr_pair]
    colors = [MUTED] * k + [REGIME["feature"]]
    fig = go.Figure(go.Bar(x=names, y=vals, marker_color=colors, hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    noise = math.sqrt(2 * math.log(task.d) / task.n)
    for y in (noise, -noise):
        fig.add_hline(y=y, line=dict(color="gray", dash="dot", width=1))
    fig.update_yaxes(title="correlation with y", range=[-1.05, 1.05])
    shown = f" (first {k} of {task.d} coordinates shown)" if k < task.d else ""
    return layout(fig, f"Correlation of y with each coordinate in n = {task.n} samples{shown}", 330)


def power_figure(p: T.Power) -> go.Figure:
    """Step 4: the median own component and the median rest norm on a log axis, with the doubling line."""
    pi, fig = p.power, go.Figure()
    steps = pi.steps
    fig.add_trace(go.Scatter(x=steps, y=pi.aligned, mode="lines+markers", name="|own component| (median)",
                             line=dict(color=REGIME["feature"], width=3)))
    fig.add_trace(go.Scatter(x=steps, y=pi.rest, mode="lines+markers", name="norm on x₃…x_d (median)",
                             line=dict(color=NEUTRAL, width=2)))
    fig.add_trace(go.Scatter(x=steps, y=pi.aligned[0] * 2.0 ** steps, mode="lines", name="start × 2^step",
                             line=dict(color=REGIME["feature"], dash="dot", width=1.5)))
    fig.add_vline(x=p.ceil_ln_d, line=dict(color="gray", dash="dash"), annotation_text=f"ceil(ln d) = {p.ceil_ln_d}")
    top = max(float(np.nanmax(pi.aligned)), float(np.nanmax(pi.rest))) * 1.6
    lo = float(pi.aligned[0]) / 1.6
    fig.update_yaxes(type="log", range=[math.log10(lo), math.log10(top)], tickvals=log_ticks(lo, top),
                     title="weight (log scale)")
    fig.update_xaxes(title="SGD step", dtick=1)
    cross = f"passes the rest at step {pi.crossing}" if pi.crossing is not None else "stays below the rest"
    return layout(fig, f"d = {p.traj.cfg.d}: the own component grows {pi.growth:.2f}× per step (median) and {cross}",
                  400)


# --- cached runs ------------------------------------------------------------------------------------------------

WAIT_S = 120.0  # the longest a page waits for one of its runs (each takes about a second here)


def computed(key: tuple, fn: Callable[[], Any]) -> Any:
    """fn() computed once per server by the pool's workers (never in this script's thread), shared by every
    visitor who asks for the same key; this visitor waits for it. Stops the page with a message if it fails."""
    pool, ctx = shared(), get_script_run_ctx()
    who = ctx.session_id if ctx else "no-session"
    entry = pool.submit(("tour", *key), lambda: FunctionJob(lambda on_progress, cancel: fn()), who)
    if not entry.wait(0.05):
        with st.spinner("Training (a few seconds, once per setting for every visitor)..."):
            pool.attend(entry, who, WAIT_S)  # the pool keeps it going while this visitor waits
    if entry.state != "done":
        st.error(f"This run could not be computed ({entry.job.error or entry.error or entry.state}); reload the page "
                 "to try again.")
        st.stop()
    return entry.job.result


def _kernel(m: int, d: int) -> Trajectory:
    return computed(("kernel", m, d), lambda: T.trajectory(T.kernel_config(m, d)))


def _feature(eta: float, d: int) -> Trajectory:
    return computed(("feature", eta, d), lambda: T.trajectory(T.feature_config(eta, d)))


def _power(d: int) -> T.Power:
    return computed(("power", d), lambda: T.power(d))


def fixed_runs(kernel_m: int, feature_eta: float, d: int = T.FIXED_D) -> dict[str, Trajectory]:
    """Steps 2 and 3 (and the trajectories page): both regimes on the same fixed set of n = 6d, with neurons."""
    return {"kernel": _kernel(kernel_m, d), "feature": _feature(feature_eta, d)}


# --- the page ---------------------------------------------------------------------------------------------------

def page() -> None:
    """Draw the tour: the step picker, the current step, and Back / Next."""
    ss = st.session_state
    if f"{P}_url_problems" not in ss:  # a shared link may open the tour at a step: /tour?step=4
        values, ss[f"{P}_url_problems"] = PAGES["tour"].parse(st.query_params)
        if "step" in values:
            ss[f"{P}_step"] = values["step"]
    for problem in ss[f"{P}_url_problems"].values():
        st.warning(problem)
    for name, value in DEFAULTS.items():
        ss.setdefault(f"{P}_{name}", value)
    st.title("A guided tour: the kernel regime and feature learning on XOR")
    st.markdown("Six short steps. Each has one idea, one control to try, and a question; open the answer when you "
                "have a guess. Every number on a step is measured on the run the step shows, at your setting.")

    def go_to(i: int) -> None:
        ss[f"{P}_step"] = i

    st.radio("Step", list(range(1, len(STEPS) + 1)), key=f"{P}_step", horizontal=True,
             format_func=lambda i: f"{i}. {STEPS[i - 1]}", label_visibility="collapsed")
    i = int(ss[f"{P}_step"])
    st.header(f"{i}. {STEPS[i - 1]}", anchor=False)
    [step_task, step_kernel, step_feature, step_power, step_samples, step_deep][i - 1]()
    back, _, nxt = st.columns([1, 4, 1])
    if i > 1:
        back.button("← Back", key=f"{P}_back", on_click=go_to, args=(i - 1,), use_container_width=True)
    if i < len(STEPS):
        nxt.button("Next →", key=f"{P}_next", on_click=go_to, args=(i + 1,), use_container_width=True, type="primary")


def _question(question: str, answer: str) -> None:
    st.markdown(f"**Question.** {question}")
    with st.expander("Show the answer"):
        st.markdown(answer)


def _claims(**kw: Any) -> None:
    """The step's claims block; what its run measured is in the answer (open it once you have a guess)."""
    claims.block(**kw, measured="In the answer above: every number there is measured on this step's run.")


def step_task() -> None:
    st.markdown("**The idea.** Each input x is d random signs ±1; the label is **y = x₁·x₂** (XOR). The other "
                "d − 2 coordinates are noise. Nothing tells the learner which two coordinates matter.")
    d = st.select_slider("input dimension d", DS_TASK, key=f"{P}_d1")
    t = T.task(int(d))
    cols = [f"x{i + 1}" for i in range(min(d, 6))]
    sample = pd.DataFrame(t.x[:6, : len(cols)].astype(int), columns=cols)
    if d > len(cols):
        sample["…"] = "…"
    sample["y = x1·x2"] = t.y[:6].astype(int)
    st.dataframe(sample, hide_index=True)
    paper_ui.chart(task_figure(t), f"{P}_task_chart")
    top = float(np.abs(t.corr).max())
    noise = math.sqrt(2 * math.log(d) / t.n)
    _question(
        "Which single coordinate would you watch to predict y?",
        f"None of them. In these n = {t.n} samples the label's correlation with any one coordinate is at most "
        f"**{top:.3f}** in size, {top / noise:.2f} times sqrt(2 ln d / n) = {noise:.3f} (dotted lines), the size "
        f"chance gives the largest of d = {d} independent coordinates; with x₁·x₂ it is exactly "
        f"**{t.corr_pair:.0f}**. The signal is in a *pair*, one of "
        f"d(d−1)/2 = **{t.pairs:,}** pairs, so a learner has to find the right product of two coordinates.")
    _claims(quotes=["xor"], chose=["zero test error"])


def _run_caption(tr: Trajectory) -> str:
    c = tr.cfg
    scale = "1/m (mean field)" if c.scale == "mf" else "1/√m (NTK)"
    return (f"d = {c.d}, a fixed training set of n = {c.n} = 6d samples (full batch), width m = {c.m}, output scale "
            f"{scale}, step size η = {c.eta:g}, {c.steps} steps, {c.seeds} seeds; {c.n_test} test points.")


def step_kernel() -> None:
    st.markdown("**The idea.** A *wide* network with the NTK output scale 1/√m and a small step (η = 1) stays near "
                "its random start, where it is a fixed kernel method (its linearization). The analyses of this regime "
                "that the poster cites need on the order of d² samples for XOR (an upper bound); here n = 6d.")
    m = st.select_slider("width m of the kernel network", KERNEL_MS, key=f"{P}_m")
    runs = fixed_runs(int(m), float(st.session_state[f"{P}_eta"]))
    tr = runs["kernel"]
    o = T.outcome(tr)
    st.caption(_run_caption(tr))
    left, right = st.columns([3, 2])
    for metric in ("test_error", "distance"):
        left.markdown(trajectories.curves_svg({"kernel": tr}, len(tr.steps) - 1, metric), unsafe_allow_html=True)
    right.markdown(trajectories.plane_svg(tr, len(tr.steps) - 1, name="kernel", title=f"Neurons at step {tr.cfg.steps}",
                                          limit=trajectories.plane_limit(tr),
                                          rest_top=float(np.nanmax(tr.planes[..., 2]))), unsafe_allow_html=True)
    found = ("more than half of it is on the pair" if o.share > 0.5 else
             "less than half of it is on the pair")
    _question(
        f"After {tr.cfg.steps} steps, how far has the network moved from its start (‖W − W₀‖ / ‖W₀‖)?",
        f"**{o.distance:.3f}** of its initial size, and its test error is **{o.test_error:.3f}** (0.5 is a coin "
        f"flip). The share of its first-layer weight on x₁, x₂ went from {o.share0:.3f} to **{o.share:.3f}** (a "
        f"neuron that ignores the task has 2/d = {2 / tr.cfg.d:.3f}): {found}. Try another width with the slider "
        "and compare the distance: a network whose weights move a fixed amount would show a relative distance "
        "shrinking like 1/√m.")
    _claims(quotes=["motivation"], bounds=[(TABLE2, ("samples",))], chose=["output scale c", "kernel regime"])


def step_feature() -> None:
    st.markdown("**The idea.** A *narrow* network (m = 20) with the mean-field scale 1/m and a large step **η = m** "
                "moves far from its start, and its neurons turn toward x₁ and x₂. Below, each dot is a neuron of "
                "seed 0 on the plane of x₁ and x₂: right = weight on (e₁+e₂)/√2, up = weight on (e₁−e₂)/√2, colour = "
                "the norm of its other d − 2 weights. Move the step slider or press Play: one control drives every "
                "chart.")
    eta = st.select_slider("step size η of the feature network (m = 20)", FEATURE_ETAS, key=f"{P}_eta",
                           format_func=lambda v: f"{v:g}")
    runs = fixed_runs(int(st.session_state[f"{P}_m"]), float(eta))
    tr = runs["feature"]
    o, ok = T.outcome(tr), T.outcome(runs["kernel"])
    st.caption(_run_caption(tr) + f" Left: the kernel network of step 2 (m = {runs['kernel'].cfg.m}), same data.")
    trajectories.scrubber(f"{P}_s3", runs, titles={"kernel": f"Kernel regime, m = {runs['kernel'].cfg.m}",
                                                   "feature": f"Feature learning, η = {eta:g}"})
    _question(
        "Where do the feature network's neurons go, and how far does it move?",
        "Two directions carry the label: (u·x)² = 1 + x₁x₂ for u = (e₁+e₂)/√2 and (v·x)² = 1 − x₁x₂ for "
        "v = (e₁−e₂)/√2, so a neuron with output weight a = +1 helps along u, one with a = −1 along v (its *own* "
        f"direction). At the end **{o.own_ahead:.0%}** of the neurons (every seed) have a larger component along "
        f"their own direction than along the other. Each neuron's own component grew **{o.own_growth:.0f}-fold** "
        f"(median), the network moved **{o.distance:.2f}** times its initial size (kernel: {ok.distance:.3f}), its "
        f"weight share on x₁, x₂ went from {o.share0:.3f} to **{o.share:.2f}**, and its test error is "
        f"**{o.test_error:.3f}** (kernel: {ok.test_error:.3f}). Try a smaller η with the slider and compare.")
    _claims(quotes=["motivation", "review_eta"], chose=["output scale c", "width and step size"])


def step_power() -> None:
    st.markdown(
        "**The idea.** Near the start the output f is about 0, so the logistic loss's slope is 1/2 for every "
        "sample, and with the quadratic activation and η = m one SGD step is about "
        "**w_j ← w_j + a_j Ĉ w_j**, where Ĉ = mean of y x xᵀ over the batch ≈ e₁e₂ᵀ + e₂e₁ᵀ. That matrix has "
        "eigenvalue +1 along (e₁+e₂)/√2 and −1 along (e₁−e₂)/√2, so a neuron with a_j = +1 **doubles** its "
        "component along (e₁+e₂)/√2, one with a_j = −1 doubles it along (e₁−e₂)/√2 (call it the neuron's *own* "
        "component), and its other weights only pick up sampling noise. That is a power iteration. The own "
        "component starts near 1/√d, the rest has norm about 1: it takes about log₂(√d) ≈ 0.72 ln d doublings to "
        "catch up. (This explanation is ours; the paper's proof is not public.) Here: Fig 1's setting, fresh "
        "batches of 6d samples per step, m = η = 20, 8 seeds.")
    d = st.select_slider("input dimension d", DS_POWER, key=f"{P}_d4")
    with st.spinner("Training 8 seeds for 10 steps..."):
        p = _power(int(d))
    paper_ui.chart(power_figure(p), f"{P}_power_chart")
    pi = p.power
    factors = ", ".join(f"{g:.2f}" for g in pi.growth_steps)
    cross = f"step **{pi.crossing}**" if pi.crossing is not None else "no step within the run"
    zero = f"step **{p.first_zero_text}**" + ("" if math.isfinite(p.first_zero) else
                                              ", after the run's end: half or more seeds never got there,")
    _question(
        f"The own component starts at {pi.aligned[0]:.3f} and the rest at {pi.rest[0]:.2f}. If the first doubles "
        "every step, after how many steps does it overtake the rest?",
        f"Measured on this run: each neuron's own component grows by a factor **{pi.growth:.2f}** per step over the "
        f"first {pi.over} steps (median over the {p.traj.planes.shape[1] * p.traj.planes.shape[2]} "
        f"neurons; step by step {factors}). Pure doubling from {pi.aligned[0]:.3f} to {pi.rest[0]:.2f} takes "
        f"log₂({pi.rest[0]:.2f} / {pi.aligned[0]:.3f}) = **{p.doublings:.1f}** steps; the median own component "
        f"passes the median rest norm at {cross}, and ceil(ln d) = **{p.ceil_ln_d}**. The test error first reaches "
        f"0 at {zero} (median over seeds). Since the start is about 1/√d, pure doubling needs log₂ √d = "
        "0.72 ln d steps to catch up, on the order of ln d; the Poster Fig 1 page measures the first zero-error "
        "step across d.")
    _claims(quotes=["theorem", "abstract_xor"], chose=["samples per step (Fig 1)", "log base"])


def step_samples() -> None:
    st.markdown("**The idea.** Poster Table 2 bounds the samples by **d** for feature learning and by **d²** for "
                "the kernel regime's earlier analyses (upper bounds). Each cell trains on a fixed set of n samples "
                "(feature learning: 200 full-batch steps, m = η = 20; kernel regime: 300 steps, m = 512, η = 1) and "
                "shows the final test error. The same experiment as the Sample complexity page, on a smaller grid.")
    target = st.slider("target: final test error at most", 0.0, 0.1, step=0.01, key=f"{P}_target")
    ds, ns = st.session_state.get(f"{P}_sample_ds", T.SAMPLE_DS), st.session_state.get(f"{P}_sample_ns", T.SAMPLE_NS)
    table = paper_ui.compute(f"{P}5", {"d": list(ds), "n": list(ns)},
                    lambda **kw: T.samples(ds, ns, max_seconds=PAGE_MAX_SECONDS, **kw))
    if table is None:
        return
    paper_ui.chart(samples_figure(table, c_lin=4, c_quad=1), f"{P}_samples_chart")
    edges = paper.sample_edges(table, float(target))
    st.dataframe(edges, hide_index=True)
    words = []
    for _, r in edges.iterrows():
        f, k = r.get("feature: smallest n"), r.get("kernel: smallest n")
        fs = f"{int(f)} ({f / r.d:g} d)" if pd.notna(f) else "more than the grid holds"
        ks = f"{int(k)} ({k / r.d ** 2:g} d²)" if pd.notna(k) else f"more than {max(ns)}"
        words.append(f"d = {int(r.d)}: feature learning {fs}, kernel regime {ks}")
    _question(
        f"How many samples does each regime need to reach test error {target:g} or less, and how does that "
        "number change when d doubles?",
        "Smallest n reaching the target on this grid: " + "; ".join(words) + ". "
        + sentences.edges_sentence(table, float(target)) + " The page *Sample complexity: n\\* against d* measures "
        "the smallest n at zero test error over two decades of d.")
    _claims(bounds=[(TABLE2, ("samples",))], chose=["sample-complexity map"])


def step_deep() -> None:
    st.markdown("**The idea.** The paper also sharpens the kernel-regime bound for *deep* networks (poster Table 1): "
                "an upper bound on the test loss of shape **1/n**, where Chen et al. 2021's had √(m/n), and no "
                "growth in the width m. Here: XOR at d = 8, softplus activation, NTK scale, width 128, η = 2, trained "
                "full batch for T = n steps.")
    L = st.radio("depth L (hidden layers)", (1, 2), key=f"{P}_L", horizontal=True)
    ns = st.session_state.get(f"{P}_deep_ns", T.DEEP_NS)
    table = paper_ui.compute(f"{P}6", {"L": int(L), "n": list(ns)},
                    lambda **kw: T.deep(int(L), ns, max_seconds=PAGE_MAX_SECONDS, **kw))
    if table is None:
        return
    paper_ui.chart(deep_loss_vs_n(table), f"{P}_deep_chart")
    r = T.deep_reading(table, int(L))
    losses = ", ".join(f"n = {int(row.n)}: {row.test_loss:.4f}" for _, row in table.sort_values("n").iterrows())
    said = sentences.deep_sentences(table)
    _question(
        "If the test loss falls like 1/n, what slope does it have on log-log axes, and what does this run show?",
        f"Slope −1. Measured at L = {L} (test loss {losses}): " + said[0] + " The relative distance from init "
        f"{'grows' if r.grows else 'goes'} with n (T = n steps) from {r.lo:.2f} to {r.hi:.2f}. " + said[-1]
        + " The Deep nets page also varies the width.")
    _claims(quotes=["abstract_deep", "kernel_ball"], bounds=[(TABLE1, ("test loss",))],
            chose=["deep-net task", "kernel-regime boundary"])
