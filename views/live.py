"""Live: the kernel regime and feature learning race on the same data, streamed into the browser.

The page keeps the visitor's `race.Settings` (changed only by their own widgets and buttons, see `live.settle`)
and a small `Watch` (how far they have seen, play or pause). The runs themselves are the server's (its one
pool, `sharp.serve.pool.shared()`): the first visitor with some settings starts them, background
workers train them, and everyone with the same settings watches the same run. The script runs on the visitor's
gestures only: it draws the live area once (`web.stream.area`), and the browser's script in it streams the
run's new points from the server's api/live route and draws them (web/static/live.js).

The race comes first (a phone's first screen): the numbers and the charts, both regimes in each; then Play / Step /
Reset, each regime's settings with its neuron view, and the explanation.
"""
import dataclasses
import uuid

import streamlit as st

import sharp
from sharp.experiments import race
from sharp.experiments.claims import TABLE2
from sharp.experiments.sentences import race_sentence
from sharp.serve.entry import Entry
from sharp.serve.live_run import Frame, LiveRun, Watch, config_json
from sharp.serve.pool import shared
from ui import claims, kiosk, live
from web import scripts, stream

KEYS = [f.name for f in dataclasses.fields(race.Settings)]
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
- The dashed marker on the feature side is at step $\lceil \ln d \rceil$: the paper's theorem says "log(d) SGD
  iterations" (poster), "$\lceil \log(d) \rceil$ iterations" (abstract), on fresh batches of $6d$ with
  $\eta = m = 20$ (the *Poster Fig 1 setting* preset); the natural log is this app's reading.

This parametrization is our reconstruction of the setup of Taheri, Thrampoulidis and Mazumdar (ICLR 2025)."""


def edit(**changes) -> None:
    """A button's change to the settings (a preset, eta = m, n = 6d, Reset): straight into the visitor's settings."""
    ss.live_settings = dataclasses.replace(ss.live_settings, **changes)


def apply_preset(name: str) -> None:
    preset = race.preset_settings(name, seed=ss.live_settings.seed)
    edit(**{k: getattr(preset, k) for k in KEYS if k != "log_x"})


def feature_eta_is_m() -> None:
    edit(feature_eta=float(ss.live_settings.feature_m))


def n_is_6d() -> None:
    edit(n=min(6 * ss.live_settings.d, race.RANGES["n"][1]))


def changed(key: str) -> None:
    """Every setting's widget reports here when its visitor moves it (see live.settle)."""
    live.note_change(ss, key)


def own(key: str) -> dict:
    """A setting's widget arguments: its key (the tests address it), and the callback that alone changes it."""
    return dict(key=key, on_change=changed, args=(key,))


def watched() -> tuple[Watch, LiveRun] | None:
    watch = ss.get("live_watch")
    entry = shared().peek(watch.key) if watch is not None else None
    return (watch, entry.job) if entry is not None else None


def on_screen(w: tuple[Watch, LiveRun]) -> tuple[Watch, LiveRun]:
    """The watch, at the position the visitor's browser has drawn (it streams without rerunning this script)."""
    w[0].catch_up(w[1], stream.seen(ss.live_id, w[0].key))
    return w


def play_pause() -> None:
    if (w := watched()) is not None:
        on_screen(w)[0].toggle(w[1])


def step_once() -> None:
    if (w := watched()) is not None:
        on_screen(w)[0].step(w[1])


def catch_up() -> None:
    """The browser's script: its view finished, reached the step asked for or ended a replay."""
    if (w := watched()) is not None:
        on_screen(w)


def new_seeds() -> None:
    edit(seed=(ss.live_settings.seed + 1) % (2**31))


# The visitor's settings: from the URL at session start, then changed only by this visitor's own gestures.
live.settle(ss, st.query_params)  # every value of a repeated key
ss.setdefault("live_id", uuid.uuid4().hex)  # this visitor, for the server's count of streaming pages
if "live_kiosk" not in ss:  # opened from the booth's kiosk: keep its parameters in the URL, return when idle
    ss.live_kiosk = {k: v for k, v in st.query_params.to_dict().items() if k in ("from_kiosk", "idle_s", "scene_s")}

# Streamlit would fade the page as "stale" during a rerun that outlasts a moment, which reads as flicker; the
# hidden button is the browser script's way to ask for a rerun (see catch_up).
st.html("<style>.stMain [data-stale='true'] {opacity: 1 !important; transition: none !important;}"
        ".st-key-live_sync {display: none !important;}</style>")
st.title("Kernel regime vs feature learning, live")
# The URL's complaints, once we know whether the visitor has changed anything (above the race on a phone too).
warn_box = st.container(key="live_warnings")
# The race first: on a phone's first screen, the numbers and the test error of both regimes in one chart (the live
# area, filled below once the run exists); then Play / Step / Reset, each regime's settings and neurons, and the
# explanation.
live_box = st.container()
run_box = st.container(horizontal=True, vertical_alignment="center", key="live_buttons")
left, right = st.columns(2, gap="large")
with left:
    st.subheader("Kernel regime", anchor=False)
    a, b, c = st.columns([1.2, 0.9, 1.1], vertical_alignment="bottom")
    a.slider("width m", *race.RANGES["kernel_m"], step=2, **own("kernel_m"))
    b.number_input("step size η", *map(float, race.RANGES["kernel_eta"]), **own("kernel_eta"), format="%g")
    c.toggle("NTK overlay", **own("overlay"), help="also train the network's linearization around W0, "
             "the exact kernel limit (dotted; slower)")
with right:
    st.subheader("Feature learning", anchor=False)
    a, b, c = st.columns([1.2, 0.9, 1.1], vertical_alignment="bottom")
    a.slider("width m", *race.RANGES["feature_m"], step=2, **own("feature_m"))
    b.number_input("step size η", *map(float, race.RANGES["feature_eta"]), **own("feature_eta"), format="%g")
    c.button(f"η = m ({ss.live_settings.feature_m})", key="eta_m", on_click=feature_eta_is_m)
st.markdown(
    "Two networks learn y = x₁·x₂ (XOR hidden in d random ±1 inputs) from the same samples. "
    "**Kernel regime** (blue): a wide network at the NTK scale with a small step; near its random start it behaves "
    "like its linearization, a fixed kernel. **Feature learning** (orange): a narrow network at the mean-field scale "
    "with a large step η = m; its neuron view (under its settings) shows whether its neurons turn toward x₁ and x₂. "
    "Below: what the paper says, what this app chose, and what this run measured.")
with st.expander("The model and the formulas"):
    st.markdown(FORMULAS)


def on_screen_history(viewer: str, watch: Watch):
    """A function giving the run's history as far as viewer's browser has drawn it (for the CSV download)."""
    def history() -> dict:
        entry = shared().peek(watch.key)
        if entry is None:
            return {}
        n = stream.seen(viewer, watch.key)
        n = watch.shown if n is None else n
        return {name: snaps[:n] for name, snaps in entry.job.history.items()}
    return history


def sidebar(run: Frame | None) -> None:
    """The shared settings, presets and downloads. Drawn after the charts (so the browser receives those first)
    and also when the settings cannot run, so the visitor can still change them."""
    with st.sidebar:
        st.subheader("Presets")
        for name in race.PRESETS:
            st.button(name, key="preset_" + "".join(c for c in name if c.isalnum()).lower(), on_click=apply_preset,
                      args=(name,), use_container_width=True)
        st.subheader("Task and data (both regimes)")
        st.slider("d: input dimension", *race.RANGES["d"], **own("d"))
        st.slider("k: parity order (y = x₁⋯x_k)", *race.RANGES["k"], **own("k"))
        st.toggle("online: a fresh batch every step", **own("online"))
        st.slider("n: fresh samples per step" if ss.live_settings.online else "n: training samples", *race.RANGES["n"],
                  **own("n"), help="6d is the poster's setting")
        st.button(f"n = 6d ({6 * ss.live_settings.d})", key="n_6d", on_click=n_is_6d)
        st.subheader("Network and training (both regimes)")
        st.slider("depth L: hidden layers", *race.RANGES["depth"], **own("depth"))
        st.selectbox("activation", race.RANGES["activation"], **own("activation"))
        st.slider("steps", *race.RANGES["steps"], **own("steps"))
        st.slider("seeds", *race.RANGES["seeds"], **own("seeds"))
        if run is None:
            return
        st.subheader("Download")
        shown = on_screen_history(ss.live_id, watch)  # what the browser shows when the visitor clicks
        st.download_button("Curves (CSV)", lambda: race.curves_csv(shown(), run.configs), "sharp-live-curves.csv",
                           "text/csv", key="csv", on_click="ignore", icon=":material/download:",
                           use_container_width=True)
        st.download_button("Settings (JSON)", lambda: config_json(run), "sharp-live-config.json",
                           "application/json", key="json", on_click="ignore", icon=":material/download:",
                           use_container_width=True)


settings = ss.live_settings
query = {**race.to_query(settings), **ss.get("live_kiosk", {})}
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
watch: Watch | None = ss.get("live_watch")
if watch is None or watch.key != settings.run_part():
    if watch is not None:  # the visitor changed something: the URL's complaints no longer apply
        ss.live_problems = {}
    try:
        race.build_configs(settings)
    except sharp.ConfigError as e:
        st.error(f"These settings cannot run: {e}")
        sidebar(None)
        st.stop()
    if heavy := race.too_heavy(settings):
        st.error(heavy)
        sidebar(None)
        st.stop()
    watch = ss.live_watch = Watch(settings.run_part())
with warn_box:
    for problem in ss.live_problems.values():  # Markdown that shows the URL's text literally (sharp.experiments.params)
        st.warning(problem)


def shared_run() -> Entry:
    """The server's run for this visitor's settings: started if nobody has it, watched live otherwise.

    A new run gets its first slice (its first points) at once, but the script asks for no more: the browser's
    stream does, once it has drawn them (web/static/live.js). So the run does not take the CPU from a browser
    still drawing the page on the same machine (the booth's screen; the tests' browsers), and a page that is
    never drawn (a closed tab, a bot) costs one slice.
    """
    return shared().get(watch.key, lambda: LiveRun.start(watch.key), want=False)


entry = shared_run()
frame = watch.look(entry.job)  # what the page draws now; the browser's script streams on from there
mode = ("step" if watch.step_to is not None else "replay" if watch.replaying
        else "play" if frame.running else "still" if frame.done else "pause")

with run_box:
    st.button("Pause" if mode == "play" else "Replay" if frame.done else "Play", key="play",
              on_click=play_pause, icon=":material/pause:" if mode == "play" else ":material/replay:"
              if frame.done else ":material/play_arrow:")
    st.button("Step", key="step", on_click=step_once, disabled=frame.done, icon=":material/skip_next:",
              help="advance one logging interval, then pause")
    st.button("Reset", key="reset", on_click=new_seeds, icon=":material/casino:", help="start again with new seeds")
    st.toggle("log-scale steps", **own("log_x"))
    # Pressed by the browser's script (never seen) when its view reached a state the buttons must show.
    st.button("sync", key="live_sync", on_click=catch_up)

# The live area: drawn once per script run (a gesture); the browser's script then streams the new points into it
# from the server's api/live route (web/stream.py), with no rerun of this script while it plays.
live_box.html(stream.area(entry, frame, stream.client_config(settings, watch, ss.live_id, mode, entry.job)),
              unsafe_allow_javascript=True)
for column, regime in ((left, "kernel"), (right, "feature")):  # each regime's neurons, under its settings
    column.html(stream.neurons_place(regime))
claims.block(quotes=["motivation"], bounds=[(TABLE2, ("samples",))],
             chose=["network", "second layer", "initialization", "output scale c", "kernel regime"],
             measured=race_sentence(frame.history, settings.steps) if not frame.running else
             "The run is playing; what it measured is stated here when it ends or is paused.")
sidebar(frame)
# Keys (Space play/pause, right arrow step, R reset), the charts' SVG/PNG buttons and the kiosk's idle return;
# sent last, so the charts reach a new visitor first.
st.html(scripts.HIDE + scripts.shortcuts() + scripts.downloads(), unsafe_allow_javascript=True)
if back := kiosk.return_url(ss.get("live_kiosk", {})):
    st.html(scripts.return_when_idle(*back), unsafe_allow_javascript=True)
