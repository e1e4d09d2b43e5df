"""Sample complexity measured: the smallest training-set size n* reaching zero test error, against d, per regime
and seed (sharp.experiments.complexity)."""
import streamlit as st

from sharp.experiments import NSTAR
from sharp.experiments.claims import TABLE2
from sharp.experiments.complexity import N_TEST, REGIMES, REL_TOL, estimate_seconds, median_nstar, slopes_sentence
from sharp.experiments.pages import NSTAR_DS, PAGES
from ui import claims
from ui.paper import chart, compute, download, ran, start
from ui.science import nstar_figure

Q = "nstar"
Q_DS, Q_URL = NSTAR_DS, PAGES["nstar"].spec  # the form, in a link
NSTAR_PAGE_MAX_SECONDS = 1800.0  # estimated (an upper bound: probes that reach zero early stop early)
start(Q, NSTAR.defaults, Q_URL)

st.title("Sample complexity: the smallest n that reaches zero test error, against d")
budgets = "; ".join(f"{b.label}: at most {b.steps} steps, test error checked every {b.every}, n up to "
                    f"{b.n_max_factor:g} d{'^2' if b.power == 2 else ''}" for b in REGIMES.values())
st.markdown(
    "**What is measured**: n*, per seed. Each seed trains on its own fixed training set of n samples (full-batch "
    f"gradient descent) and succeeds when its test error is exactly 0 on {N_TEST} fresh test points at some checked "
    f"step within the budget ({budgets}). The search doubles n from d, then bisects each seed's bracket to within "
    f"{REL_TOL:.0%}; every probe trains all seeds as one batch. A seed that never succeeds up to the largest n is "
    "censored (an open triangle), never dropped. **Look at** which panel is flat: the left one if n* grows like "
    "d, the right one if like d^2.")

with st.form(f"{Q}_form"):
    c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
    c1.multiselect("feature learning: d", Q_DS["feature"], key=f"{Q}_feature_d")
    c2.multiselect("kernel regime: d", Q_DS["kernel"], key=f"{Q}_kernel_d")
    c3.multiselect("linearized: d", Q_DS["linearized"], key=f"{Q}_linearized_d")
    c4.number_input("seeds", *Q_URL["seeds"].bounds, key=f"{Q}_seeds")
    if st.form_submit_button("Measure n*", type="primary"):
        ran(Q)

qs = {k: st.session_state[f"{Q}_{k}"] for k in NSTAR.defaults}
chosen = {r: qs[f"{r}_d"] for r in REGIMES if qs[f"{r}_d"]}
if not chosen:
    st.info("Pick at least one d for one regime above.")
else:
    estimate = sum(estimate_seconds(r, d, int(qs["seeds"])) for r, ds in chosen.items() for d in ds)
    st.caption(f"These settings take up to about {estimate / 60:.0f} min on this machine when nothing is stored "
               "(usually several times less: a probe stops once every seed is at zero); the default range is "
               "computed when the server starts.")
    qdf = compute(Q, NSTAR.settings(qs), lambda **kw: NSTAR.run(qs, max_seconds=NSTAR_PAGE_MAX_SECONDS, **kw))
    if qdf is not None:
        labels = {r: b.label for r, b in REGIMES.items()}
        chart(nstar_figure(qdf, labels), f"{Q}_chart")
        claims.block(quotes=["theorem", "review_xor"], bounds=[(TABLE2, ("samples",))],
                     chose=["zero test error", "kernel regime"],
                     measured="(least-squares slopes of log n*/d and log n*/d^2 against log d, of the median over "
                              "seeds; the range is the seeds' own slopes; the verdict keeps the growth laws whose "
                              "slope lies in that range, widened by the search's resolution): "
                              + slopes_sentence(qdf))
        table = median_nstar(qdf).drop(columns=["median"]).rename(columns={
            "median_text": "median n*", "lo": "smallest seed's n*", "hi": "largest seed's n*",
            "censored": "censored seeds", "n_max": "largest n tried"})
        st.dataframe(table, hide_index=True)
        cost = qdf.drop_duplicates(["regime", "d"]).groupby("regime").seconds.sum()
        st.caption("Cost of this computation here: " + ", ".join(f"{r} {s:.0f} s" for r, s in cost.items())
                   + " (probes read back from the store cost nothing).")
        download(qdf, "nstar.csv", f"{Q}_download")
