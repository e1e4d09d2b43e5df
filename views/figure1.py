"""Poster Fig 1: test error vs SGD iteration on XOR for several d, feature-learning regime."""
import streamlit as st

from sharp.experiments import FIG1, READINGS
from sharp.experiments.fig1 import zero_step_table, zero_step_verdict
from sharp.experiments.pages import PAGES
from sharp.experiments.params import Int, Subset
from sharp.experiments.sensitivity import READINGS as NAMES
from sharp.experiments.sensitivity import sensitivity_sentence, sensitivity_table
from ui import claims
from ui.paper import chart, download, experiment_frame, ran, start
from ui.paper_figures import figure1_figure
from ui.science import readings_figure

P = "fig1"
URL = PAGES["figure1"].spec  # the form, in a link
DS = list(URL["d"].choices)
start(P, FIG1.defaults, URL)

st.title("Poster Fig 1: test error against the SGD iteration, several d")
st.markdown(
    "Feature learning on XOR (y = x1 x2, x uniform on {-1,+1}^d): a two-layer network of width m with quadratic "
    "activation, step size eta = m, a fresh batch of 6d samples per step, 4000 test points. Each line is the median "
    "over seeds; the band spans the best and worst seed; the dotted markers are at ceil(ln d). Below the table: "
    "the paper's words, this app's choices and the measurement.")

with st.form(f"{P}_form"):
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    c1.multiselect("input dimensions d", DS, key=f"{P}_d")
    c2.number_input("seeds", *URL["seeds"].bounds, key=f"{P}_seeds")
    c3.number_input("iterations", *URL["steps"].bounds, key=f"{P}_steps")
    c4.number_input("width m (= eta)", *URL["m"].bounds, step=2, key=f"{P}_m")
    if st.form_submit_button("Run", type="primary"):
        ran(P)

s = {k: st.session_state[f"{P}_{k}"] for k in ("d", "seeds", "steps", "m")}
df = experiment_frame(P, FIG1, s, None if s["d"] else "Pick at least one d above.")

chart(figure1_figure(df), f"{P}_chart")
table = zero_step_table(df).rename(columns={"per seed": "first zero-error step, per seed (- = not within the run)"})
st.markdown("**First iteration with zero test error** (exactly 0 mistakes on the 4000 test points; a seed that "
            "never got there counts as later than the last iteration, so the median reads \"> N\" when half or "
            "more seeds never did):")
st.dataframe(table, hide_index=True)
claims.block(quotes=["theorem", "fig1"],
             chose=["network", "second layer", "initialization", "output scale c", "samples per step (Fig 1)",
                    "log base", "zero test error"],
             measured=zero_step_verdict(df))
download(df, "figure1.csv", f"{P}_download")

# --- the same measurement under other readings of the setup (sharp.experiments.sensitivity) ---

R = "readings"
R_URL = {"d": Subset(DS), "seeds": Int(1, 10), "steps": Int(6, 60)}  # the form's ranges (the link carries Fig 1's)
start(R, READINGS.defaults)
st.subheader("Does it depend on how the setup is read?")
st.markdown("The same first-zero-error measurement under the readings of the setup that the paper's words allow "
            "(the paper's words and this app's choices are below the chart).")
with st.form(f"{R}_form"):
    c1, c2, c3 = st.columns([3, 1, 1])
    c1.multiselect("input dimensions d", DS, key=f"{R}_d")
    c2.number_input("seeds", *R_URL["seeds"].bounds, key=f"{R}_seeds")
    c3.number_input("iterations", *R_URL["steps"].bounds, key=f"{R}_steps")
    if st.form_submit_button("Run the readings", type="primary"):
        ran(R)
rs = {k: st.session_state[f"{R}_{k}"] for k in ("d", "seeds", "steps")}
rdf = experiment_frame(R, READINGS, rs, None if rs["d"] else "Pick at least one d for the readings.")
rtable = sensitivity_table(rdf)
chart(readings_figure(rtable, NAMES), f"{R}_chart")
claims.block(quotes=["fig1", "abstract_xor"],
             chose=["initialization", "samples per step (Fig 1)", "log base", "zero test error"],
             measured=f"(eta = m = 20, c = 1/m, {int(rdf.n_test.iloc[0])} test points, {int(rs['seeds'])} seeds per "
                      "d; a seed that never reached zero counts as later than the budget): "
                      + sensitivity_sentence(rtable))
shown = rtable.assign(reading=[NAMES.get(r, r) for r in rtable.reading])
st.dataframe(shown[["reading", "d", "ceil_ln_d", "median_text", "per_seed", "final_error", "diverged"]].rename(
    columns={"ceil_ln_d": "ceil(ln d)", "median_text": "median first zero-error step",
             "per_seed": "per seed (- = never)", "final_error": "median test error at the end",
             "diverged": "seeds diverged"}), hide_index=True)
download(rdf, "readings.csv", f"{R}_download")
