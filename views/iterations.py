"""Iterations vs d: the first zero-error iteration for both regimes on the same online data stream."""
import streamlit as st

from sharp.experiments import ITERATIONS, paper
from sharp.experiments.pages import PAGES
from ui.paper import chart, download, experiment_frame, ran, start
from ui.paper_figures import growth_sentence, iterations_figure

P = "iters"
URL = PAGES["iterations"].spec  # the form, in a link
DS = list(URL["d"].choices)
start(P, ITERATIONS.defaults, URL)

st.title("Iterations vs d: ln d for feature learning, about d for the kernel regime")
st.markdown(
    "**The claim (Table 2, iterations).** With feature learning (mean-field scale, m = 20, eta = m) SGD "
    "reaches zero test error after about **ln d** iterations; analyses of the kernel regime need on the order "
    "of **d^2** samples (and iterations).  \n"
    "**Here** both regimes see *the same* online stream: a fresh batch of 6d samples per step, same seeds. "
    "The kernel regime is the NTK scale 1/sqrt(m) with a wide network and eta = 1. At 6d samples per step, "
    "d^2 samples means about d/6 steps, so its reference line grows **like d**; feature learning follows "
    "the dotted ceil(ln d) staircase. A seed that never reaches the target within the step budget is drawn "
    "as an open triangle at the budget, never hidden.")

with st.form(f"{P}_form"):
    c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1])
    c1.multiselect("input dimensions d", DS, key=f"{P}_d")
    c2.number_input("seeds", *URL["seeds"].bounds, key=f"{P}_seeds")
    c3.number_input("kernel step budget", *URL["kernel_steps"].bounds, key=f"{P}_kernel_steps")
    c4.selectbox("kernel width m", URL["kernel_m"].choices, key=f"{P}_kernel_m")
    c5.number_input("target: test error <=", *URL["threshold"].bounds, step=0.01, format="%.2f", key=f"{P}_threshold",
                    help="0 = exactly zero mistakes on the 1000 test points")
    if st.form_submit_button("Run", type="primary"):
        ran(P)

s = {k: st.session_state[f"{P}_{k}"] for k in ("d", "seeds", "kernel_steps", "kernel_m", "threshold")}
# the threshold only changes the summary, so it is not part of the sweep's settings
df = experiment_frame(P, ITERATIONS, s, None if s["d"] else "Pick at least one d above.")

summary = paper.iteration_summary(df, float(s["threshold"]))
chart(iterations_figure(summary, float(s["threshold"])), f"{P}_chart")
st.markdown(growth_sentence(summary))
show = summary.drop(columns="median").rename(columns={
    "median_text": "median first step", "lo": "fastest seed", "hi": "slowest seed (budget if never)",
    "reached": "seeds that reached it", "cap": "step budget", "ceil_ln_d": "ceil(ln d)"})
st.dataframe(show, hide_index=True)
download(df, "iterations.csv", f"{P}_download")
