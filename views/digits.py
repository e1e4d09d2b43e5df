"""The paper's real-data experiment: two hidden layers on two classes of handwritten digits, two step sizes."""
import streamlit as st

from sharp.engine.images import ENV
from sharp.experiments import DIGITS
from sharp.experiments.digits import digits_sentence, final
from sharp.experiments.pages import PAGES
from ui import claims
from ui.paper import chart, download, experiment_frame, ran, start
from ui.science import digits_gap_figure, digits_iterations_figure

P = "digits"
FORM = PAGES["digits"].spec  # the form, in a link (the step sizes stay on the page)
NS = list(FORM["ns"].choices)
start(P, DIGITS.defaults, FORM)

st.title("Real digits: two hidden layers, two step sizes, the generalization gap against n")
st.markdown("The paper's real-data experiment as this app reconstructs it: training loss, test loss, their gap and "
            "the distance from initialization against the iteration at two step sizes, and the final gap against "
            "the training-set size n. The paper's words and this app's choices are below the charts.")

with st.form(f"{P}_form"):
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("class labelled +1", list(range(10)), key=f"{P}_plus")
    c2.selectbox("class labelled -1", list(range(10)), key=f"{P}_minus")
    eta1 = c3.number_input("step size 1", 0.01, 100.0, float(st.session_state[f"{P}_etas"][0]), key=f"{P}_eta1")
    eta2 = c4.number_input("step size 2", 0.01, 100.0, float(st.session_state[f"{P}_etas"][-1]), key=f"{P}_eta2")
    c5, c6, c7, c8 = st.columns([3, 1, 1, 1])
    c5.multiselect("training-set sizes n", NS, key=f"{P}_ns")
    c6.number_input("width m", *FORM["m"].bounds, step=2, key=f"{P}_m")
    c7.number_input("steps", *FORM["steps"].bounds, key=f"{P}_steps")
    c8.number_input("seeds", *FORM["seeds"].bounds, key=f"{P}_seeds")
    if st.form_submit_button("Run", type="primary"):
        st.session_state[f"{P}_etas"] = [float(eta1), float(eta2)]
        ran(P)

s = {k: st.session_state[f"{P}_{k}"] for k in DIGITS.defaults if k != "data"} | {"data": DIGITS.defaults["data"]}
problem = None
if not s["ns"]:
    problem = "Pick at least one training-set size n above."
elif s["plus"] == s["minus"]:
    problem = "Pick two different classes above."
elif s["etas"][0] == s["etas"][1]:
    problem = "Pick two different step sizes above."
df = experiment_frame(P, DIGITS, s, problem)

fin = final(df)
st.markdown(f"**Data**: {df.source.iloc[0]}; classes {df.classes.iloc[0]} (+1 for the first); "
            f"n = {', '.join(str(int(n)) for n in sorted(df.n.unique()))} training images, the same images for "
            f"both step sizes; width m = {int(df.m.iloc[0])}. Your own MNIST or Fashion-MNIST IDX files: set "
            f"`{ENV}` to their folder before starting the server.")
chart(digits_iterations_figure(df), f"{P}_iterations")
chart(digits_gap_figure(df), f"{P}_gap")
claims.block(quotes=["figure1_digits", "review_digits"], chose=["real-data experiment"],
             measured=digits_sentence(df))
st.dataframe(fin.rename(columns={"gap": "gap (test - train loss)", "distance": "||W_t - W_0||"}), hide_index=True)
download(df, "digits.csv", f"{P}_download")
