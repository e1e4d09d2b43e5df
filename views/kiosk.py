"""Kiosk: an unattended attract loop for a booth (/?kiosk=1): four scenes that replay finished runs, each with
a headline and a countdown, no widgets; a touch or key opens the normal page at the scene's settings, a QR
code opens them on a phone. The scenes and the clock live in sharp/experiments/scenes.py, the links and the
drawing in ui/kiosk.py.
"""
import html
import time

import streamlit as st

from sharp.experiments import scenes
from sharp.serve.scene_store import SceneStore
from sharp.settings import env, var
from ui import kiosk
from web import scripts

TICK_S = 1.0  # the loop redraws once a second (the countdown); an unchanged chart costs the browser nothing
ss = st.session_state

# Sized for a 1920x1080 screen read from two metres: type in viewport units, no header, no sidebar, charts
# without their download buttons (nobody is at the keyboard).
CSS = """<style>
header[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], .sharp-dl {display: none !important;}
[data-testid="stMainBlockContainer"] {padding: 1.2vw 2.2vw 0.5vw 2.2vw; max-width: 100%;}
.stMain [data-stale='true'] {opacity: 1 !important; transition: none !important;}
.kiosk-strip {display: flex; gap: 1.2vw; align-items: center; font-size: clamp(0.9rem, 1.25vw, 1.6rem);}
.kiosk-strip span {opacity: 0.45;} .kiosk-strip span.now {opacity: 1; font-weight: 700;}
.kiosk-strip .count {margin-left: auto; opacity: 0.85; font-variant-numeric: tabular-nums;}
.kiosk-bar {height: 0.5vw; min-height: 4px; background: rgba(128,128,128,0.25); border-radius: 4px; margin: 0.4vw 0;}
.kiosk-bar div {height: 100%; background: currentColor; opacity: 0.6; border-radius: 4px;}
.kiosk-headline {font-size: clamp(1.5rem, 3vw, 3.7rem); font-weight: 700; line-height: 1.12; margin: 0.3vw 0;}
.kiosk-caption {font-size: clamp(0.95rem, 1.3vw, 1.7rem); opacity: 0.8;}
.kiosk-paper {font-style: italic; opacity: 0.7;}
.kiosk-reading {font-size: clamp(1rem, 1.55vw, 2rem); margin: 0 0 1vw 0; line-height: 1.25;}
.kiosk-reading b {display: block; font-size: 1.3em;}
.kiosk-reading.compact {margin-bottom: 0.45vw;} .kiosk-reading.compact b {display: inline; font-size: 1.1em;}
.kiosk-reading i {display: inline-block; width: 1.2em; height: 0.35em; vertical-align: middle; margin-right: 0.3em;}
.kiosk-hint {font-size: clamp(1rem, 1.6vw, 2rem); font-weight: 600; margin-top: 1vw;}
.kiosk-qr {width: min(14vw, 40vh); min-width: 120px; display: block; margin-top: 0.6vw;}
.kiosk-qr-text {font-size: clamp(0.9rem, 1.2vw, 1.5rem);}
</style>"""

opts, problems = kiosk.parse_options(st.query_params)
settings = env()  # the public address ($SHARP_PUBLIC_URL) for the QR code, or why there is none
base, base_problem = settings.public_url, settings.problems.get(var("public_url"))
store = st.cache_resource(show_spinner=False)(SceneStore)()  # one per server: scenes trained once
store.warm()
if "kiosk_t0" not in ss:  # the loop's clock starts when this screen opened the kiosk
    ss.kiosk_t0 = time.monotonic()

st.html(CSS)
st.html(scripts.HIDE)
for problem in [*problems.values(), *([base_problem] if base_problem else [])]:
    st.warning(problem)


@st.fragment(run_every=TICK_S)
def loop() -> None:
    order = scenes.loop_order(store.ready(), opts.start)
    if not order:
        failed = "; ".join(store.errors.values())
        st.markdown('<div class="kiosk-headline">Kernel regime vs feature learning</div>', unsafe_allow_html=True)
        if failed:
            st.error(f"The demo's runs failed: {failed}")
        else:
            st.info("Preparing the demo's runs…")
        return
    index, into = scenes.position(time.monotonic() - ss.kiosk_t0, opts.scene_s, len(order))
    data = store.get(order[index])
    scene, n = data.scene, scenes.total(data)
    shown = scenes.revealed(n, into, opts.scene_s)
    nxt = scenes.BY_KEY[order[(index + 1) % len(order)]]
    strip = "".join(f'<span class="{"now" if s.key == scene.key else ""}">{s.key}. {s.title}</span>'
                    for s in scenes.SCENES)
    left = scenes.seconds_left(into, opts.scene_s)
    st.markdown(
        f'<div class="kiosk-strip" data-scene="{scene.key}" '
        f'data-handoff="{html.escape(kiosk.handoff_url(scene, opts))}">'
        f'{strip}<span class="count" data-countdown="{left}">'
        f'next: {nxt.title} in {left} s</span></div>'
        f'<div class="kiosk-bar"><div style="width:{100 * scenes.progress_share(into, opts.scene_s):.1f}%"></div></div>'
        f'<div class="kiosk-headline">{html.escape(scenes.headline(data))}</div>'
        f'<div class="kiosk-caption">{html.escape(scenes.caption(scene))}</div>'
        f'<div class="kiosk-caption kiosk-paper">{html.escape(scenes.paper_line(scene))}</div>',
        unsafe_allow_html=True)
    chart, side = st.columns([2.3, 1], gap="large")
    chart.markdown(store.frame(scene.key, shown, kiosk.frame_svg), unsafe_allow_html=True)
    compact = " compact" if scene.kind == "fig1" else ""  # six lines: one each
    side_html = "".join(f'<div class="kiosk-reading{compact}"><b><i style="background:{r.color}"></i>{r.label}</b>'
                        f'{": " if compact else ""}{r.value}</div>' for r in kiosk.readings(data, shown))
    side_html += '<div class="kiosk-hint">Touch the screen or press a key to try it yourself.</div>'
    if base:
        link = kiosk.public_link(scene, base)
        side_html += (f'{kiosk.qr_svg(link)}<div class="kiosk-qr-text">Scan to continue on your phone</div>')
    side.markdown(side_html, unsafe_allow_html=True)
    st.html(scripts.leave_kiosk(kiosk.handoff_url(scene, opts)), unsafe_allow_javascript=True)


loop()
