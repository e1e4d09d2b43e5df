"""Theory: Tables 1 and 2, the theorem in words, and the rates beside measurements at the chosen settings."""
import streamlit as st

from sharp.experiments import THEORY, paper
from sharp.experiments.params import Int
from ui.paper import download, experiment_frame, ran, start

P = "theory"
URL = {"d": Int(4, 1600), "m": Int(16, 1024, even=True), "n": Int(20, 2000), "L": Int(1, 4)}  # the form, in a link
start(P, THEORY.defaults, URL)

st.title("Theory: what the paper proves, and what we measure")
st.markdown("""
**The theorem in words.** Take XOR data: x uniform on the hypercube {+1,-1}^d, label y = x1 x2. Train a
two-layer network of *constant* width m with quadratic activation, standard Gaussian initialization, and
mini-batch SGD with step size eta = m (mean-field scale: the network moves far from its initialization
and learns the feature x1, x2). Then with n = O~(d) samples, SGD reaches **zero test error after about
ceil(log d) iterations**. Analyses in the kernel regime (the network stays near its initialization and
behaves like its linearization) need width poly(d), about d^2 iterations and d^2 samples for the same task.

For deep networks that *do* stay in the kernel regime, the paper sharpens the generalization bound: the
test loss is e^O(L) / (gamma^2 n), falling like 1/n and not growing with the width, valid while the
weights stay within a radius m^O(1/L) of the initialization (the poster's Q3).

**Table 2: learning XOR**

| | width | iterations | samples |
|---|---|---|---|
| kernel regime (Ji and Telgarsky 2020; Wei et al. 2019) | Omega(poly(d)) | d^2 | d^2 |
| feature learning (this paper) | Omega(1) | log(d) | d |

**Table 1: deep nets in the kernel regime** (data separable with NTK margin gamma, depth L, width m, n samples)

| | width | test loss |
|---|---|---|
| Chen et al. 2021 | Omega(poly(log(n)/gamma)) | e^O(L) / gamma^2 * sqrt(m/n) |
| this paper | Omega(poly(log(n)/gamma)) | e^O(L) / (gamma^2 n) |
""")

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
