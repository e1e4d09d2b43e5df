"""Live: the kernel regime and feature learning race on the same data, streamed into the browser.

The page keeps the visitor's `ui.live.Settings` (changed only by their own widgets and buttons, see
`live.settle`) and a small `live.Watch` (how far they have seen, play or pause). The runs themselves are the
server's (`ui.server.runs()`, a `sharp.serve.scheduler.Registry`): the first visitor with some settings starts
them, background workers train them, and everyone with the same settings watches the same run. A fragment
reruns several times a second to draw what is new, with the pure builders in `ui.figures`.
"""
import dataclasses
import time
import uuid

import streamlit as st

import sharp
from sharp.serve.scheduler import Entry
from ui import figures, kiosk, live, scripts
from ui.server import runs

TICK_S = 0.12  # the live view reruns this often while training...
FULL_PACE = 4  # ... while at most this many visitors stream at once; with more, each one's pace slows in proportion
FIRST_WAIT_S = 1.5  # a page waits at most this long for a new run's first points before drawing
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


def edit(**changes) -> None:
    """A button's change to the settings (a preset, eta = m, n = 6d, Reset): straight into the visitor's settings."""
    ss.live_settings = dataclasses.replace(ss.live_settings, **changes)


def apply_preset(name: str) -> None:
    preset = live.preset_settings(name, seed=ss.live_settings.seed)
    edit(**{k: getattr(preset, k) for k in KEYS if k != "log_x"})


def feature_eta_is_m() -> None:
    edit(feature_eta=float(ss.live_settings.feature_m))


def n_is_6d() -> None:
    edit(n=min(6 * ss.live_settings.d, live.RANGES["n"][1]))


def changed(key: str) -> None:
    """Every setting's widget reports here when its visitor moves it (see live.settle)."""
    live.note_change(ss, key)


def own(key: str) -> dict:
    """A setting's widget arguments: its key (the tests address it), and the callback that alone changes it."""
    return dict(key=key, on_change=changed, args=(key,))


def watched() -> tuple[live.Watch, live.LiveRun] | None:
    watch = ss.get("live_watch")
    entry = runs().peek(watch.key) if watch is not None else None
    return (watch, entry.job) if entry is not None else None


def play_pause() -> None:
    if (w := watched()) is not None:
        w[0].toggle(w[1])


def step_once() -> None:
    if (w := watched()) is not None:
        w[0].step(w[1])


def new_seeds() -> None:
    edit(seed=(ss.live_settings.seed + 1) % (2**31))


# The visitor's settings: from the URL at session start, then changed only by this visitor's own gestures.
live.settle(ss, st.query_params)  # every value of a repeated key
ss.setdefault("live_id", uuid.uuid4().hex)  # this visitor, for the server's count of streaming pages
if "live_kiosk" not in ss:  # opened from the booth's kiosk: keep its parameters in the URL, return when idle
    ss.live_kiosk = {k: v for k, v in st.query_params.to_dict().items() if k in ("from_kiosk", "idle_s", "scene_s")}

# The live view reruns several times a second; Streamlit would fade its charts as "stale" during every rerun
# that outlasts a moment (on a busy machine, most of them), which reads as flicker. Keep them opaque here.
st.html("<style>.stMain [data-stale='true'] {opacity: 1 !important; transition: none !important;}</style>")
# First of all, a reload if the page goes blank: in CI a page whose connection dropped before its charts came
# was left blank for minutes, and the watchdog, then sent last, had never arrived.
st.html(scripts.HIDE + scripts.reload_if_blank(), unsafe_allow_javascript=True)
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
    a.slider("width m", *live.RANGES["kernel_m"], step=2, **own("kernel_m"))
    b.number_input("step size η", *map(float, live.RANGES["kernel_eta"]), **own("kernel_eta"), format="%g")
    c.toggle("NTK overlay", **own("overlay"), help="also train the network's linearization around W0, "
             "the exact kernel limit (dotted; slower)")
with right:
    st.subheader("Feature learning", anchor=False)
    a, b, c = st.columns([1.2, 0.9, 1.1], vertical_alignment="bottom")
    a.slider("width m", *live.RANGES["feature_m"], step=2, **own("feature_m"))
    b.number_input("step size η", *map(float, live.RANGES["feature_eta"]), **own("feature_eta"), format="%g")
    c.button(f"η = m ({ss.live_settings.feature_m})", key="eta_m", on_click=feature_eta_is_m)

def sidebar(run: live.Frame | None) -> None:
    """The shared settings, presets and downloads. Drawn after the charts (so the browser receives those first)
    and also when the settings cannot run, so the visitor can still change them."""
    with st.sidebar:
        st.subheader("Presets")
        for name in live.PRESETS:
            st.button(name, key="preset_" + "".join(c for c in name if c.isalnum()).lower(), on_click=apply_preset,
                      args=(name,), use_container_width=True)
        st.subheader("Task and data (both regimes)")
        st.slider("d: input dimension", *live.RANGES["d"], **own("d"))
        st.slider("k: parity order (y = x₁⋯x_k)", *live.RANGES["k"], **own("k"))
        st.toggle("online: a fresh batch every step", **own("online"))
        st.slider("n: fresh samples per step" if ss.live_settings.online else "n: training samples", *live.RANGES["n"],
                  **own("n"), help="6d is the poster's setting")
        st.button(f"n = 6d ({6 * ss.live_settings.d})", key="n_6d", on_click=n_is_6d)
        st.subheader("Network and training (both regimes)")
        st.slider("depth L: hidden layers", *live.RANGES["depth"], **own("depth"))
        st.selectbox("activation", live.RANGES["activation"], **own("activation"))
        st.slider("steps", *live.RANGES["steps"], **own("steps"))
        st.slider("seeds", *live.RANGES["seeds"], **own("seeds"))
        if run is None:
            return
        st.subheader("Download")
        st.download_button("Curves (CSV)", lambda: live.curves_csv(run.history), "sharp-live-curves.csv", "text/csv",
                           key="csv", on_click="ignore", icon=":material/download:", use_container_width=True)
        st.download_button("Settings (JSON)", lambda: live.config_json(run), "sharp-live-config.json",
                           "application/json", key="json", on_click="ignore", icon=":material/download:",
                           use_container_width=True)


settings = ss.live_settings
query = {**live.to_query(settings), **ss.get("live_kiosk", {})}
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
watch: live.Watch | None = ss.get("live_watch")
if watch is None or watch.key != settings.run_part():
    if watch is not None:  # the visitor changed something: the URL's complaints no longer apply
        ss.live_problems = {}
    try:
        live.build_configs(settings)
    except sharp.ConfigError as e:
        st.error(f"These settings cannot run: {e}")
        sidebar(None)
        st.stop()
    if heavy := live.too_heavy(settings):
        st.error(heavy)
        sidebar(None)
        st.stop()
    watch = ss.live_watch = live.Watch(settings.run_part())
with warn_box:
    for problem in ss.live_problems.values():  # Markdown that shows the URL's text literally (ui.params)
        st.warning(problem)


def shared_run() -> Entry:
    """The server's run for this visitor's settings: started if nobody has it, watched live otherwise."""
    return runs().get(watch.key, lambda: live.LiveRun.start(watch.key), want=watch.wants_compute())


entry = shared_run()
live.wait_first(entry, FIRST_WAIT_S)  # the first points come from a worker; the page shows them at once
frame = watch.look(entry.job)

with run_box:  # Play and Step are drawn by the live view itself (below), so their labels follow every tick
    c = st.columns([1, 1.2, 5], vertical_alignment="center")
    c[0].button("Reset", key="reset", on_click=new_seeds, icon=":material/casino:", use_container_width=True,
                help="start again with new seeds")
    c[1].toggle("log-scale steps", **own("log_x"))


def controls(frame: live.Frame) -> None:
    """Play / Pause / Replay and Step, inside the ticking view: a click reruns the view, which relabels them."""
    c = st.columns([1, 1, 1, 1.2, 3], vertical_alignment="center")
    c[0].button("Pause" if frame.running else "Replay" if frame.done else "Play", key="play", on_click=play_pause,
                icon=":material/pause:" if frame.running else ":material/replay:" if frame.done
                else ":material/play_arrow:", use_container_width=True)
    c[1].button("Step", key="step", on_click=step_once, disabled=frame.done, icon=":material/skip_next:",
                use_container_width=True, help="advance one logging interval, then pause")


def neurons(entry: Entry, frame: live.Frame, name: str) -> str:
    """The neuron view, rebuilt at most once a second while streaming: it changes slowly, and an unchanged
    element costs the browser nothing. Visitors at the same position share the drawing."""
    cache, now = ss.setdefault("live_neurons", {}), time.monotonic()
    snaps, s = frame.history[name], frame.settings
    hit = cache.get(name)
    if hit and hit[0] == entry.key and now - hit[1] < NEURONS_EVERY_S and frame.running:
        return hit[2]
    title = f"Neurons: each one's share of its weight energy on x₁..{figures.relevant(s.k)}"
    svg = entry.chart(("neurons", name, len(snaps)), lambda: figures.neurons_svg(
        snaps[-1], snaps[0], name, s.k, s.d, title=title, chart=f"neurons-{name}"))
    cache[name] = (entry.key, now, svg)
    return svg


def draw(entry: Entry, frame: live.Frame, log_x: bool) -> None:
    # Every chart is built before anything is sent, so both columns update together. While streaming the
    # charts carry no tooltips (each would add a hundred elements to every redraw); paused or done, they do.
    # Visitors who see the same steps of the same run with the same view share one drawing.
    s, streaming = frame.settings, frame.running
    if entry.error:
        st.error(f"This run stopped with an error: {entry.error}. Change a setting or press Reset to try again.")
        return
    if not frame.history["kernel"]:
        ahead = runs().ahead(entry)
        st.info(f"Waiting: {ahead} run{'s' * (ahead != 1)} ahead of this one on this server. It starts as soon "
                "as one of them finishes or is paused." if ahead else "Starting...")
        return
    shown = len(frame.history["kernel"])
    curves = entry.chart(("curves", shown, log_x, not streaming),
                         lambda: live.curve_charts(frame, log_x, hover=not streaming))
    views = {name: neurons(entry, frame, name) for name in live.REGIMES}
    if streaming and (ahead := runs().ahead(entry)):
        st.info(f"Waiting: {ahead} run{'s' * (ahead != 1)} ahead of this one on this server; it goes on as soon "
                "as one of them finishes or is paused.")
    for col, name in zip(st.columns(2, gap="large"), live.REGIMES):
        snap, names = frame.latest(name), live.column_runs(s, name)
        with col:
            m = st.columns(3)
            m[0].metric("step", f"{snap.step} / {s.steps}")
            m[1].metric("test error", "—" if snap.diverged else f"{snap.test_error:.3f}")
            m[2].metric("distance from init", "—" if snap.diverged else f"{snap.distance:.2f}")
            for n in names:
                if (last := frame.latest(n)) is not None and last.diverged:
                    seeds = ", ".join(map(str, last.diverged_seeds))
                    st.error(f"**{figures.LABELS[n].capitalize()} diverged at step {last.diverged_step}**: the "
                             f"outputs blew up (beyond 10⁶ or infinite) for seed(s) {seeds}. The step size "
                             f"η = {getattr(s, name + '_eta'):g} is too large here; lower it.")
            st.markdown(curves[name], unsafe_allow_html=True)
            st.markdown(views[name], unsafe_allow_html=True)
    if not streaming:
        st.caption("Hover a chart for the values at each step, or a bar for its neuron's shares.")


def moving(frame: live.Frame) -> bool:
    """Whether this visitor's view still changes by itself: playing, stepping, or waiting for first points."""
    return frame.running or watch.step_to is not None or (not frame.history["kernel"] and not frame.done)


def pace() -> float:
    """Seconds between redraws: TICK_S, longer when more than FULL_PACE visitors stream at once (a classroom),
    so that the server's threads keep answering every one of them."""
    streaming = runs().heartbeat(ss.live_id)
    return TICK_S * max(1.0, streaming / FULL_PACE)


ticking = moving(frame)
in_full_run = True  # False once this script run is over: a later call of live_view is one of its ticks


# The view ticks while it moves, at one pace from the page's first run. Its Play and Step buttons are inside
# it, so a click or the end of the run relabels them in the view's own rerun. A full rerun, to start or stop
# the ticking, is asked for only when that changes; under load such a rerun asked for from inside the
# fragment was now and then lost, which then costs a few idle ticks or a second click on Play, never a page
# whose buttons say the wrong thing.
@st.fragment(run_every=pace() if ticking else None)
def live_view() -> None:
    entry = shared_run()
    frame = frame_now if in_full_run else watch.look(entry.job)
    if ticking:
        runs().heartbeat(ss.live_id)
    controls(frame)
    draw(entry, frame, ss.live_settings.log_x)
    if not in_full_run and moving(frame) != ticking:
        st.rerun()  # start or stop the ticking


frame_now = frame
live_view()
in_full_run = False
sidebar(frame)
# Keys (Space play/pause, right arrow step, R reset), the charts' SVG/PNG buttons and the kiosk's idle return;
# sent last, so the charts reach a new visitor first.
st.html(scripts.HIDE + scripts.shortcuts() + scripts.downloads(), unsafe_allow_javascript=True)
if back := kiosk.return_url(ss.get("live_kiosk", {})):
    st.html(scripts.return_when_idle(*back), unsafe_allow_javascript=True)
