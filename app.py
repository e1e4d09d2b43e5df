"""sharp: the Streamlit router. Pages live in views/ (not pages/: see README, Layout); each reads its
widgets, calls sharp, and draws. /?kiosk=1 runs the booth's attract loop instead (views/kiosk.py)."""
import importlib

import streamlit as st

import sharp  # first of the engine: it tunes OpenMP before torch loads
from sharp.experiments import WARM
from sharp.serve.warm import warm_up_once
from ui.kiosk import wants_kiosk
from ui.server import tune_interpreter

sharp.engine_threads()  # a bounded share of the cores per server ($SHARP_THREADS, default min(2, cores))
tune_interpreter()  # once per server: 1 ms thread switches, start-up's objects out of the garbage collector's sight
# Once per server (its first session), in the background: the paper pages' default figures, and Plotly's
# first-use imports (SHARP_WARM=0: neither).
warm_up_once(WARM, also=lambda: importlib.import_module("ui.paper").warm_figures())

# A menu item keeps Streamlit's menu, and with it the light / dark theme choice, under toolbarMode = "minimal".
st.set_page_config(page_title="sharp: kernel vs feature learning", page_icon="✳️", layout="wide",
                   menu_items={"About": "sharp: the kernel regime against feature learning, live (ICLR 2025 result)."})
if wants_kiosk(st.query_params):
    pg = st.navigation([st.Page("views/kiosk.py", title="Kiosk", default=True)], position="hidden")
else:
    pg = st.navigation({
        "Live": [st.Page("views/live.py", title="Kernel vs feature learning", default=True)],
        "The paper's claims": [
            st.Page("views/figure1.py", title="Poster Fig 1"),
            st.Page("views/iterations.py", title="Iterations vs d"),
            st.Page("views/samples.py", title="Sample complexity"),
            st.Page("views/deep.py", title="Deep nets, kernel regime"),
            st.Page("views/theory.py", title="Theory"),
        ],
        "Learn": [
            st.Page("views/tour.py", title="Guided tour"),
            st.Page("views/trajectories.py", title="Neuron trajectories"),
            st.Page("views/regime.py", title="Regime map"),
        ],
    })
pg.run()
