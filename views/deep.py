"""Deep nets in the kernel regime (poster Table 1): test loss vs n and vs m, distance from init vs m."""
import streamlit as st

from sharp.experiments import DEEP, paper, sentences
from sharp.experiments.claims import TABLE1
from sharp.experiments.pages import PAGES
from ui import claims
from ui.paper import chart, download, experiment_frame, ran, start
from ui.paper_figures import deep_loss_vs_n, deep_vs_m

P = "deep"
URL = PAGES["deep"].spec  # the form, in a link
start(P, DEEP.defaults, URL)

st.title("Deep networks in the kernel regime: test loss against n and against the width")
st.markdown(
    "Deep networks at the NTK scale, trained full batch on XOR in d = 8 for T = n steps. Top: final test loss "
    "against the training-set size n, with the fitted slopes in the legend and a slope -1 line; below it, left: "
    "against the width m, with a flat line and a sqrt(m) line through the narrowest point; right: the relative "
    "distance from init against m. Below the charts: what poster Table 1 states (upper bounds), this app's setup, "
    "and what these slopes can and cannot tell apart.")

with st.form(f"{P}_form"):
    c1, c2, c3 = st.columns([1, 2, 2])
    c1.multiselect("depths L", URL["L"].choices, key=f"{P}_L")
    c2.multiselect("widths m (the two lower charts)", URL["m"].choices, key=f"{P}_m")
    c3.multiselect("training-set sizes n (top chart)", URL["n"].choices, key=f"{P}_n")
    c4, c5, c6, c7 = st.columns(4)
    c4.selectbox("width for the n sweep", URL["m0"].choices, key=f"{P}_m0")
    c5.selectbox("n for the m sweep", URL["n0"].choices, key=f"{P}_n0")
    c6.number_input("seeds", *URL["seeds"].bounds, key=f"{P}_seeds")
    c7.selectbox("activation (smooth)", URL["activation"].choices, key=f"{P}_activation")
    if st.form_submit_button("Run", type="primary"):
        ran(P)

s = {k: st.session_state[f"{P}_{k}"] for k in ("L", "m", "n", "m0", "n0", "seeds", "activation")}
df = experiment_frame(P, DEEP, s, None if s["L"] and s["m"] and s["n"] else
                      "Pick at least one depth, one width and one n above.")

table = paper.final_table(df, ["axis", "L", "n", "m"])
chart(deep_loss_vs_n(table), f"{P}_chart_n")
left, right = st.columns(2)
chart(deep_vs_m(table, "test_loss"), f"{P}_chart_m", left)
chart(deep_vs_m(table, "distance"), f"{P}_chart_dist", right)
claims.block(quotes=["abstract_deep", "kernel_ball"], bounds=[(TABLE1, ("test loss",))],
             chose=["deep-net task", "kernel-regime boundary"], measured=sentences.deep_sentences(table))
st.markdown("**Fitted log-log slopes** of the final test loss (least squares over the points shown):")
st.dataframe(paper.deep_slopes(table).round(2), hide_index=True)
with st.expander("The numbers"):
    st.dataframe(table, hide_index=True)
download(df, "deep.csv", f"{P}_download")
