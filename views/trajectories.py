"""Neuron trajectories: both regimes' neurons on the plane of x1 and x2, one step scrubber for every chart."""
import streamlit as st

from sharp.experiments.pages import PAGES
from sharp.experiments.sentences import trajectories_sentence
from ui import claims, tour, trajectories

P = "traj"
# A first visit may come from a shared link, e.g. /trajectories?m=256&eta=10; bad values are named and ignored.
if f"{P}_url_problems" not in st.session_state:
    LINK = PAGES["trajectories"]
    values, st.session_state[f"{P}_url_problems"] = LINK.parse(st.query_params)
    for name, default in LINK.defaults.items():  # the link's value, else what the visitor has, else the default
        if name in values or f"{P}_{name}" not in st.session_state:
            st.session_state[f"{P}_{name}"] = values.get(name, default)
for problem in st.session_state[f"{P}_url_problems"].values():
    st.warning(problem)

st.title("Neuron trajectories: where each neuron goes, step by step")
st.markdown(
    "Both regimes train on the same fixed set of n = 6d samples (d = 50). Each dot is one first-layer neuron "
    "(seed 0; at most 64 drawn): **right** = its weight on (e₁+e₂)/√2, **up** = its weight on (e₁−e₂)/√2, "
    "**colour** = the norm of its weights on the other d − 2 coordinates; its line is the path it took from step 0. "
    "XOR's signal lives on exactly these two directions. The **step slider** (or **Play**) drives every chart: "
    "both planes and the cursor on the test-error and distance curves. The guided tour explains what you see.")
c1, c2, _ = st.columns([2, 2, 3])
c1.select_slider("kernel regime: width m (NTK scale, η = 1)", tour.KERNEL_MS, key=f"{P}_m")
c2.select_slider("feature learning: step size η (m = 20, scale 1/m)", tour.FEATURE_ETAS, key=f"{P}_eta",
                 format_func=lambda v: f"{v:g}")
runs = tour.fixed_runs(int(st.session_state[f"{P}_m"]), float(st.session_state[f"{P}_eta"]))
trajectories.scrubber(P, runs, titles={"kernel": f"Kernel regime, m = {runs['kernel'].cfg.m}",
                                       "feature": f"Feature learning, η = {runs['feature'].cfg.eta:g}"})
st.caption(f"Seeds: {runs['feature'].cfg.seeds} (curves: mean and band over seeds); {runs['feature'].cfg.steps} "
           f"full-batch steps, logged every {runs['feature'].cfg.every}.")
claims.block(quotes=["motivation"], chose=["second layer", "output scale c", "kernel regime"],
             measured=trajectories_sentence(runs))
