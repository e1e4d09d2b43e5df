"""Regime map: final test error and distance from init over width m and step size eta, both output scales.

Its sweep is the shared experiment `sharp.experiments.REGIME` (the one the server's warm-up computes at the
defaults), run through `ui.paper.experiment_frame`; d, steps and seeds come from the URL like every page's.
"""
import streamlit as st

from sharp.experiments import REGIME, regime
from sharp.experiments.pages import PAGES
from ui import claims
from ui.paper import chart, download, experiment_frame, ran, start
from ui.regime import preset_cells, presets_sentence, regime_figure, summary

P = "regime"
URL = PAGES["regime"].spec  # the form, in a link
start(P, {k: REGIME.defaults[k] for k in URL}, URL)

st.title("Regime map: where does the kernel regime end?")
st.markdown(
    "Every cell trains a two-layer network (quadratic activation) on the same fixed set of n = 6d samples, full "
    "batch, for a fixed number of steps, and shows its final test error (left) and its relative distance from init "
    "‖W − W₀‖/‖W₀‖ (right, log colour scale), averaged over seeds. Top: the mean-field scale 1/m; bottom: the NTK "
    "scale 1/√m. The **white line** is where the distance crosses 1; the star is the feature-learning preset "
    "(m = η = 20, scale 1/m), the diamond the kernel preset (m = 1024, η = 1, scale 1/√m).")

with st.form(f"{P}_form"):
    c1, c2, c3 = st.columns(3)
    c1.select_slider("input dimension d (n = 6d)", URL["d"].choices, key=f"{P}_d")
    c2.select_slider("SGD steps", URL["steps"].choices, key=f"{P}_steps")
    c3.number_input("seeds", *URL["seeds"].bounds, key=f"{P}_seeds")
    if st.form_submit_button("Run", type="primary"):
        ran(P)

# the grid of widths and step sizes, the scales and the test set stay at the experiment's defaults
s = {**REGIME.defaults, **{k: int(st.session_state[f"{P}_{k}"]) for k in URL}}
df = experiment_frame(P, REGIME, s)
table = regime.table(df)
chart(regime_figure(table), f"{P}_chart")
cells = preset_cells(table)
claims.block(quotes=["q3", "kernel_ball", "motivation"], chose=["output scale c", "kernel-regime boundary"],
             measured=["**What this map shows.**  \n" + "  \n".join(summary(table)), presets_sentence(cells)])
st.markdown("**The presets** (the nearest cell of the grid):")
st.dataframe(cells, hide_index=True)
st.markdown(
    "Our reasoning, not the paper's: with the mean-field scale one step moves each neuron by about η/m times its "
    "gradient, so over a fixed number of steps the line would run along η ∝ m; the crossings measured above (with "
    "their exponent when three or more widths cross) say how far that holds on this grid.")
with st.expander("The numbers"):
    st.dataframe(table, hide_index=True)
download(df, "regime-map.csv", f"{P}_download")
