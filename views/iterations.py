"""Iterations vs d: the first zero-error iteration for both regimes on the same online data stream."""
import streamlit as st

from sharp.experiments import ITERATIONS, paper, sentences
from sharp.experiments.claims import TABLE2
from sharp.experiments.pages import PAGES
from ui import claims
from ui.paper import chart, download, experiment_frame, ran, start
from ui.paper_figures import iterations_figure

P = "iters"
URL = PAGES["iterations"].spec  # the form, in a link
DS = list(URL["d"].choices)
start(P, ITERATIONS.defaults, URL)

st.title("Iterations vs d: feature learning and the kernel regime on one data stream")
st.markdown(
    "The first SGD step at which the test error reaches the target, against d, for both regimes on *the same* "
    "online stream (a fresh batch of 6d samples per step, same seeds). The dotted staircase is ceil(ln d); a seed "
    "that never reaches the target within the step budget is an open triangle at the budget, never hidden. The "
    "paper's statement, this app's choices and the measured growth are below the chart.")

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
claims.block(quotes=["theorem"], bounds=[(TABLE2, ("iterations",))],
             chose=["samples per step (Fig 1)", "iterations in the kernel regime", "log base", "zero test error"],
             measured=sentences.growth_sentence(df, float(s["threshold"])))
show = summary.drop(columns="median").rename(columns={
    "median_text": "median first step", "lo": "fastest seed", "hi": "slowest seed (budget if never)",
    "reached": "seeds that reached it", "cap": "step budget", "ceil_ln_d": "ceil(ln d)"})
st.dataframe(show, hide_index=True)
download(df, "iterations.csv", f"{P}_download")
