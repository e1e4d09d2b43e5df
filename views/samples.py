"""Sample complexity: final test error over (d, n) with a fixed training set, one heat map per regime."""
import streamlit as st

from sharp.experiments import SAMPLES, paper, sentences
from sharp.experiments.claims import TABLE2
from sharp.experiments.pages import PAGES
from ui import claims
from ui.paper import chart, download, experiment_frame, ran, start
from ui.paper_figures import samples_figure

P = "samples"
URL = PAGES["samples"].spec  # the form, in a link
DS, NS = list(URL["d"].choices), list(URL["n"].choices)
start(P, SAMPLES.defaults, URL)

st.title("Sample complexity: final test error over (d, n), fixed training sets")
st.markdown(
    "Each cell trains on a *fixed* training set of n samples (full batch) and shows the final test error on 1000 "
    "fresh points, averaged over seeds; yellow is no test error. Compare each map's edge with the dashed line "
    "n = c d and the dotted n = c d^2, and move the constants c below. Below the chart: whether these edges can tell "
    "d from d^2. The smallest n that reaches zero test error, over two decades of d, is on the page "
    "[Sample complexity: n\\* against d](/nstar).")

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
dist = table.groupby("regime").distance.median()
claims.block(quotes=["theorem"], bounds=[(TABLE2, ("samples",))], chose=["sample-complexity map", "kernel regime"],
             measured=[sentences.edges_sentence(table),
                       "Median relative distance from init ||W - W0|| / ||W0|| at the end: " + ", ".join(
                           f"{r} {v:.2f} ({'farther' if v >= 1 else 'less far'} than its initial norm)"
                           for r, v in dist.items()) + "."])
st.markdown("**Smallest n with mean test error <= 0.02**, per d (blank: not within the n tried):")
st.dataframe(edge, hide_index=True)
if table.diverged.any():
    bad = table[table.diverged > 0]
    cells = zip(bad.regime, bad.d, bad.n, bad.diverged)
    st.caption("\\* Seeds diverged (their outputs blew up) in these cells: "
               + "; ".join(f"{r}, d = {int(d)}, n = {int(n)} ({v:.0%} of seeds)" for r, d, n, v in cells)
               + ". The number shown averages the seeds that did not.")
download(df, "samples.csv", f"{P}_download")
