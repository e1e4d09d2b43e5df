"""Sample complexity: final test error over (d, n) with a fixed training set, one heat map per regime."""
import streamlit as st

from sharp.experiments import SAMPLES, paper
from sharp.experiments.pages import PAGES
from ui.paper import chart, download, experiment_frame, ran, start
from ui.paper_figures import samples_figure

P = "samples"
URL = PAGES["samples"].spec  # the form, in a link
DS, NS = list(URL["d"].choices), list(URL["n"].choices)
start(P, SAMPLES.defaults, URL)

st.title("Sample complexity: about d samples with feature learning, about d^2 in the kernel regime")
st.markdown("The smallest n at which each seed reaches zero test error, measured against d over two decades, is on "
            "the page [Sample complexity: n\\* against d](/nstar).")
st.markdown(
    "**The claim (Table 2, samples).** Feature learning reaches zero test error with n = O~(d) samples; "
    "kernel-regime analyses need about d^2.  \n"
    "**Here** each cell trains on a *fixed* training set of n samples (full-batch gradient descent; feature "
    "learning: 200 steps at eta = m = 20, scale 1/m; kernel regime: 300 steps at eta = 1, scale 1/sqrt(m), "
    "m = 512) and shows the final error on 1000 fresh test points, averaged over seeds. **Look at** "
    "where each map turns yellow (error 0): the feature map's edge follows the black dashed line n = c d, the "
    "kernel map's edge follows the pink dotted n = c d^2. Move the constants c to fit the edges.")

with st.form(f"{P}_form"):
    c1, c2, c3 = st.columns([2, 3, 1])
    c1.multiselect("input dimensions d", DS, key=f"{P}_d")
    c2.multiselect("training-set sizes n", NS, key=f"{P}_n")
    c3.number_input("seeds", *URL["seeds"].bounds, key=f"{P}_seeds")
    c4, c5, _ = st.columns([1, 1, 4])
    c4.number_input("c in n = c d", *URL["c_lin"].bounds, key=f"{P}_c_lin")
    c5.number_input("c in n = c d^2", *URL["c_quad"].bounds, key=f"{P}_c_quad")
    if st.form_submit_button("Run", type="primary"):
        ran(P)

s = {k: st.session_state[f"{P}_{k}"] for k in ("d", "n", "seeds", "c_lin", "c_quad")}
df = experiment_frame(P, SAMPLES, s, None if s["d"] and s["n"] else "Pick at least one d and one n above.")

table = paper.final_table(df, ["regime", "d", "n"])
chart(samples_figure(table, float(s["c_lin"]), float(s["c_quad"])), f"{P}_chart")
edge = paper.sample_edges(table)
st.markdown("**Smallest n with mean test error <= 0.02**, per d (blank: not within the n tried):")
st.dataframe(edge, hide_index=True)
dist = table.groupby("regime").distance.median()
st.caption("Median relative distance from init ||W - W0|| / ||W0|| at the end: "
           + ", ".join(f"{r} {v:.2f}" for r, v in dist.items())
           + " (feature learning moves O(1) away; the kernel regime stays close).")
if table.diverged.any():
    st.caption("\\* Some seeds diverged in these cells (with far fewer samples than dimensions, the quadratic "
               "network at eta = 20 grows without bound); the number shown averages the seeds that did not.")
download(df, "samples.csv", f"{P}_download")
