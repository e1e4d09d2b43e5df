"""Theory: the paper's statements quoted with their sources, this app's reconstruction beside them (both from
sharp.experiments.claims), and the rates beside measurements at the chosen settings."""
import pandas as pd
import streamlit as st

from sharp.experiments import THEORY, paper
from sharp.experiments.claims import QUOTES, TABLE1, TABLE2, bounds_rows, choices_rows
from sharp.experiments.pages import PAGES
from ui.paper import download, experiment_frame, ran, start

P = "theory"
URL = PAGES["theory"].spec  # the form, in a link
start(P, THEORY.defaults, URL)

st.title("Theory: what the paper states, what this app chose, and what we measure")
st.markdown("**What the paper states**, word for word (its full text was not available to us; these are the "
            "public sources):")
for name in ("xor", "theorem", "abstract_xor", "review_eta", "abstract_deep", "kernel_ball"):
    st.markdown(QUOTES[name].markdown())
st.markdown("**Table 2: learning XOR.**\n\n" + QUOTES["table2"].markdown()
            + "\n\nEvery entry is an upper bound from an analysis; the kernel row is the earlier analyses' (e.g. Ji "
              "and Telgarsky 2020; Wei et al. 2019) as the poster cites them, not a measurement of a kernel-regime "
              "network.")
st.table(pd.DataFrame(bounds_rows(TABLE2)).set_index("analysis"))
st.markdown("**Table 1: deep nets in the kernel regime.**\n\n" + QUOTES["table1"].markdown()
            + "\n\nBoth rows are upper bounds on the test loss; Chen et al.'s is the earlier analysis as the poster "
              "cites it.")
st.table(pd.DataFrame(bounds_rows(TABLE1)).set_index("analysis"))
st.markdown("**This app's reconstruction**: each setting the sources leave open, what the app does, and why. The "
            "Poster Fig 1 page measures how the result changes under the other readings.")
st.table(pd.DataFrame(choices_rows()).set_index("setting"))

st.subheader("The rates at your settings, beside what this machine measures")
with st.form(f"{P}_form"):
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("input dimension d", *URL["d"].bounds, key=f"{P}_d")
    c2.number_input("width m (deep run)", *URL["m"].bounds, step=16, key=f"{P}_m")
    c3.number_input("training-set size n", *URL["n"].bounds, key=f"{P}_n")
    c4.number_input("depth L (deep run)", *URL["L"].bounds, key=f"{P}_L")
    if st.form_submit_button("Measure", type="primary"):
        ran(P)

s = {k: int(st.session_state[f"{P}_{k}"]) for k in ("d", "m", "n", "L")}
left, right = st.columns(2)
left.markdown(f"**Table 2 at d = {s['d']}** (orders of magnitude; constants dropped)")
left.table(paper.table2_at(s["d"]).set_index(""))
right.markdown(f"**Table 1 at m = {s['m']}, n = {s['n']}, L = {s['L']}** (shape only; e^O(L)/gamma^2 dropped)")
right.table(paper.table1_at(s["m"], s["n"], s["L"]).set_index("").style.format({"value": "{:.4g}"}))

df = experiment_frame(P, THEORY, s)
st.markdown("**Measured here** (3 seeds; the deep run is the one of the *Deep nets* page: XOR on d = 8, "
            "softplus, NTK scale, eta = 2, T = n full-batch steps):")
st.table(paper.theory_measured(df, **s).set_index("claim"))
st.caption("Our network is a reconstruction from the poster (the paper's full text was not available); "
           "the Poster Fig 1, Iterations vs d, Sample complexity and Deep nets pages sweep each claim.")
download(df, "theory.csv", f"{P}_download")
