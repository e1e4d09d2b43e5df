"""Live: the kernel regime and feature learning race on the same data, streamed into the browser.

The page reads widgets into a `ui.live.Settings`, keeps one `LiveRun` per session, advances it from a
fragment that reruns several times a second, and draws with the pure builders in `ui.figures`.
"""
import dataclasses
import math
import time

import streamlit as st

import sharp
from ui import figures, kiosk, live, scripts

TICK_S = 0.12  # the live view reruns this often while training
WARMUP_S = 1.0  # ... except for a session's first tick, while the browser is still loading the page
BUDGET_S = 0.06  # training time per tick; the rest of the tick is drawing and sending the charts
NEURONS_EVERY_S = 1.0  # the neuron views change slowly; redrawing them less often keeps the curves fluid
KEYS = [f.name for f in dataclasses.fields(live.Settings)]
ss = st.session_state
FORMULAS = r"""
- **Network**: $f(x) = c \sum_{j=1}^m a_j\, \sigma(\langle w_j, x\rangle)$, output weights $a_j = \pm 1$ fixed
  (half each), $W_0$ entries $\mathcal N(0, 1/d)$, $\sigma(t) = t^2$ by default; depth $L$ stacks hidden layers.
- **Kernel regime**: NTK scale $c = 1/\sqrt m$, large $m$, $\eta \approx 1$. **Feature learning**: mean-field
  scale $c = 1/m$, $m = 20$, $\eta = m$.
- **Training**: logistic loss $\ell = \log(1 + e^{-y f(x)})$, plain SGD $W \leftarrow W - \eta \nabla \hat L(W)$.
- **Data**: $x \sim \mathrm{Unif}\{\pm1\}^d$, $y = \prod_{i \le k} x_i$; the test set is shared by both regimes.
- **Distance from init**: $\|W_t - W_0\|_F / \|W_0\|_F$.
- **Neuron view**: each neuron's share of first-layer weight energy on the relevant coordinates,
  $\sum_{i\le k} w_{ji}^2 / \|w_j\|^2$; about $k/d$ at init (dashed line), near 1 once the neuron has found them.
- **Linearized (NTK) network**: $f_{lin}(W) = f(W_0) + \langle \nabla f(W_0), W - W_0\rangle$, trained the same
  way: the exact kernel regime.
- **Curves**: mean over seeds; the band runs from the best to the worst seed.
- On the poster's setting (fresh batches of $6d$, $\eta = m = 20$) the feature network reaches zero test error
  after about $\lceil \ln d \rceil$ steps (dashed marker).

This parametrization is our reconstruction of the setup of Taheri, Thrampoulidis and Mazumdar (ICLR 2025)."""


def load(s: live.Settings) -> None:
    for key in KEYS:
        ss[key] = getattr(s, key)


def apply_preset(name: str) -> None:
    load(dataclasses.replace(live.preset_settings(name, seed=ss.seed), log_x=ss.log_x))


def feature_eta_is_m() -> None:
    ss.feature_eta = float(ss.feature_m)


def n_is_6d() -> None:
    ss.n = min(6 * ss.d, live.RANGES["n"][1])


def play_pause() -> None:
    run = ss.get("live_run")
    if run is None:
        return
    if run.done:
        ss.live_run = None  # replay the same settings from the start
    else:
        run.running = not run.running


def step_once() -> None:
    run = ss.get("live_run")
    if run is not None and not run.done:
        run.running = False
        run.advance(budget_s=math.inf, max_snaps=1)


def new_seeds() -> None:
    ss.seed = (ss.seed + 1) % (2**31)


# Session start: the URL sets the view, once; later the widgets hold the settings.
if "live_settings" not in ss:
    ss.live_settings, ss.live_problems = live.parse_query(st.query_params.to_dict())
    load(ss.live_settings)
    # Opened from the booth's kiosk: keep its parameters in the URL and go back to the loop when left idle.
    ss.live_kiosk = {k: v for k, v in st.query_params.to_dict().items() if k in ("from_kiosk", "idle_s", "scene_s")}
for key in KEYS:  # widget values are dropped while another page is shown; bring them back
    if key not in ss:
        ss[key] = getattr(ss.live_settings, key)

# The live view reruns several times a second; Streamlit would fade its charts as "stale" during every rerun
# that outlasts a moment (on a busy machine, most of them), which reads as flicker. Keep them opaque here.
st.html("<style>.stMain [data-stale='true'] {opacity: 1 !important; transition: none !important;}</style>")
st.title("Kernel regime vs feature learning, live")
st.markdown(
    "Two networks learn y = x₁·x₂ (XOR hidden in d random ±1 inputs) from the same samples. "
    "**Kernel regime** (left): a wide network with a small step barely leaves its random start, so it acts "
    "like a fixed kernel, which would need about d² samples; with n = 6d its test error stays high. "
    "**Feature learning** (right): a narrow network with a large step η = m moves far from its start, its "
    "neurons turn toward x₁ and x₂ (the neuron view at the bottom), and the test error drops to zero.")
with st.expander("The model and the formulas"):
    st.markdown(FORMULAS)

warn_box = st.container()  # the URL's complaints, once we know whether the visitor has changed anything

run_box = st.container()  # Play / Step / Reset, filled in once the run exists
left, right = st.columns(2, gap="large")
with left:
    st.subheader("Kernel regime", anchor=False)
    a, b, c = st.columns([1.2, 0.9, 1.1], vertical_alignment="bottom")
    a.slider("width m", *live.RANGES["kernel_m"], step=2, key="kernel_m")
    b.number_input("step size η", *map(float, live.RANGES["kernel_eta"]), key="kernel_eta", format="%g")
    c.toggle("NTK overlay", key="overlay", help="also train the network's linearization around W0, "
             "the exact kernel limit (dotted; slower)")
with right:
    st.subheader("Feature learning", anchor=False)
    a, b, c = st.columns([1.2, 0.9, 1.1], vertical_alignment="bottom")
    a.slider("width m", *live.RANGES["feature_m"], step=2, key="feature_m")
    b.number_input("step size η", *map(float, live.RANGES["feature_eta"]), key="feature_eta", format="%g")
    c.button(f"η = m ({ss.feature_m})", key="eta_m", on_click=feature_eta_is_m)

def sidebar(run: live.LiveRun | None) -> None:
    """The shared settings, presets and downloads. Drawn after the charts (so the browser receives those first)
    and also when the settings cannot run, so the visitor can still change them."""
    with st.sidebar:
        st.subheader("Presets")
        for name in live.PRESETS:
            st.button(name, key="preset_" + "".join(c for c in name if c.isalnum()).lower(), on_click=apply_preset,
                      args=(name,), use_container_width=True)
        st.subheader("Task and data (both regimes)")
        st.slider("d: input dimension", *live.RANGES["d"], key="d")
        st.slider("k: parity order (y = x₁⋯x_k)", *live.RANGES["k"], key="k")
        st.toggle("online: a fresh batch every step", key="online")
        st.slider("n: fresh samples per step" if ss.online else "n: training samples", *live.RANGES["n"],
                  key="n", help="6d is the poster's setting")
        st.button(f"n = 6d ({6 * ss.d})", key="n_6d", on_click=n_is_6d)
        st.subheader("Network and training (both regimes)")
        st.slider("depth L: hidden layers", *live.RANGES["depth"], key="depth")
        st.selectbox("activation", live.RANGES["activation"], key="activation")
        st.slider("steps", *live.RANGES["steps"], key="steps")
        st.slider("seeds", *live.RANGES["seeds"], key="seeds")
        if run is None:
            return
        st.subheader("Download")
        st.download_button("Curves (CSV)", lambda: live.curves_csv(run.history), "sharp-live-curves.csv", "text/csv",
                           key="csv", on_click="ignore", icon=":material/download:", use_container_width=True)
        st.download_button("Settings (JSON)", lambda: live.config_json(run), "sharp-live-config.json",
                           "application/json", key="json", on_click="ignore", icon=":material/download:",
                           use_container_width=True)


settings = live.Settings(**{key: ss[key] for key in KEYS})
query = {**live.to_query(settings), **ss.get("live_kiosk", {})}
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
run = ss.get("live_run")
if run is None or run.settings.run_part() != settings.run_part():
    if run is not None:  # the visitor changed something: the URL's complaints no longer apply
        ss.live_problems = {}
    try:
        run = live.LiveRun.start(settings)
    except sharp.ConfigError as e:
        st.error(f"These settings cannot run: {e}")
        sidebar(None)
        st.stop()
    if heavy := live.too_heavy(settings):
        st.error(heavy)
        sidebar(None)
        st.stop()
    ss.live_run = run
ss.live_settings = settings
with warn_box:
    for problem in ss.live_problems.values():
        st.warning(f"URL parameter {problem}")
if not run.history["kernel"]:
    run.advance(max_snaps=1)  # the first points, synchronously: the page shows them even before any tick

with run_box:
    c = st.columns([1, 1, 1, 1.2, 3], vertical_alignment="center")
    c[0].button("Pause" if run.running else "Replay" if run.done else "Play", key="play", on_click=play_pause,
                icon=":material/pause:" if run.running else ":material/replay:" if run.done
                else ":material/play_arrow:", use_container_width=True)
    c[1].button("Step", key="step", on_click=step_once, disabled=run.done, icon=":material/skip_next:",
                use_container_width=True, help="advance one logging interval, then pause")
    c[2].button("Reset", key="reset", on_click=new_seeds, icon=":material/casino:", use_container_width=True,
                help="start again with new seeds")
    c[3].toggle("log-scale steps", key="log_x")


def neurons(run: live.LiveRun, name: str) -> str:
    """The neuron view, rebuilt at most once a second while streaming: it changes slowly, and an unchanged
    element costs the browser nothing."""
    cache, now = ss.setdefault("live_neurons", {}), time.monotonic()
    snaps, s = run.history[name], run.settings
    hit = cache.get(name)
    if hit and hit[0] is run and now - hit[1] < NEURONS_EVERY_S and run.running and not run.done:
        return hit[2]
    title = f"Neurons: each one's share of its weight energy on x₁..{figures.relevant(s.k)}"
    svg = figures.neurons_svg(snaps[-1], snaps[0], name, s.k, s.d, title=title, chart=f"neurons-{name}")
    cache[name] = (run, now, svg)
    return svg


def draw(run: live.LiveRun, log_x: bool) -> None:
    # Every chart is built before anything is sent, so both columns update together. While streaming the
    # charts carry no tooltips (each would add a hundred elements to every redraw); paused or done, they do.
    s, streaming = run.settings, run.running and not run.done
    curves = live.curve_charts(run, log_x, hover=not streaming)
    views = {name: neurons(run, name) for name in live.REGIMES}
    for col, name in zip(st.columns(2, gap="large"), live.REGIMES):
        snap, names = run.latest(name), live.column_runs(run.settings, name)
        with col:
            m = st.columns(3)
            m[0].metric("step", f"{snap.step} / {s.steps}")
            m[1].metric("test error", "—" if snap.diverged else f"{snap.test_error:.3f}")
            m[2].metric("distance from init", "—" if snap.diverged else f"{snap.distance:.2f}")
            for n in names:
                if (last := run.latest(n)) is not None and last.diverged:
                    seeds = ", ".join(map(str, last.diverged_seeds))
                    st.error(f"**{figures.LABELS[n].capitalize()} diverged at step {last.diverged_step}**: the "
                             f"outputs blew up (beyond 10⁶ or infinite) for seed(s) {seeds}. The step size "
                             f"η = {getattr(s, name + '_eta'):g} is too large here; lower it.")
            st.markdown(curves[name], unsafe_allow_html=True)
            st.markdown(views[name], unsafe_allow_html=True)
    if not streaming:
        st.caption("Hover a chart for the values at each step, or a bar for its neuron's shares.")


ticking = run.running and not run.done
# A session's first tick waits: the browser is still loading the scripts of the page's widgets, and charts
# arriving every TICK_S meanwhile delayed the first points on screen by about a second (3.3 s against 2.2 s
# in a fresh browser). After that tick a full rerun switches to the fast pace.
warming = ticking and not ss.get("live_warm", False)
in_full_run = True  # False once this script run is over: a later call of live_view is one of its ticks


@st.fragment(run_every=(WARMUP_S if warming else TICK_S) if ticking else None)
def live_view() -> None:
    run = ss.live_run
    if run.running and not run.done:
        run.advance(BUDGET_S)
    draw(run, ss.log_x)
    if ticking and run.done:
        st.rerun()  # a full rerun stops the ticking and relabels Play
    if warming and not in_full_run:
        ss.live_warm = True
        st.rerun()


live_view()
in_full_run = False
sidebar(run)
# Keys (Space play/pause, right arrow step, R reset), the charts' SVG/PNG buttons, and the kiosk's idle return;
# sent last, so the charts reach a new visitor first.
st.html(scripts.HIDE + scripts.shortcuts() + scripts.downloads(), unsafe_allow_javascript=True)
if back := kiosk.return_url(ss.get("live_kiosk", {})):
    st.html(scripts.return_when_idle(*back), unsafe_allow_javascript=True)
