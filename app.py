"""sharp: the Streamlit router. Pages live in views/ (not pages/: see docs/architecture.md); each reads its
widgets, calls sharp, and draws. /?kiosk=1 runs the booth's attract loop instead (views/kiosk.py).

This file is read twice. `streamlit run app.py` imports it as a module (name "app") and serves the ASGI app
built below, whose start-up work (web.server.lifespan) makes every page ready before the first visitor; each
visitor's session then runs it as a script (name "__main__"), which routes to a page.
"""
import streamlit as st

if __name__ != "__main__":  # imported by the server: the ASGI app (found by `streamlit run` as `app`)
    from web.server import lifespan, routes

    app = st.App("app.py", lifespan=lifespan, routes=routes())
else:
    from ui.kiosk import wants_kiosk
    from web.guard import rerun_after_reconnect
    from web.server import start

    start()  # a no-op once the server has started; AppTest, which runs this script alone, needs it
    # A menu item keeps Streamlit's menu, and with it the light / dark theme choice, under toolbarMode = "minimal".
    st.set_page_config(page_title="sharp: kernel vs feature learning", page_icon="✳️", layout="wide",
                       menu_items={"About": "sharp: the kernel regime against feature learning, live "
                                                "(ICLR 2025 result)."})
    if wants_kiosk(st.query_params):
        pg = st.navigation([st.Page("views/kiosk.py", title="Kiosk", default=True)], position="hidden")
    else:
        pg = st.navigation({
            "Live": [st.Page("views/live.py", title="Kernel vs feature learning", default=True)],
            "The paper's claims": [
                st.Page("views/figure1.py", title="Poster Fig 1"),
                st.Page("views/iterations.py", title="Iterations vs d"),
                st.Page("views/nstar.py", title="Sample complexity: n* against d"),
                st.Page("views/samples.py", title="Sample complexity: error over (d, n)"),
                st.Page("views/deep.py", title="Deep nets, kernel regime"),
                st.Page("views/digits.py", title="Real digits, two hidden layers"),
                st.Page("views/theory.py", title="Theory"),
            ],
            "Learn": [
                st.Page("views/tour.py", title="Guided tour"),
                st.Page("views/trajectories.py", title="Neuron trajectories"),
                st.Page("views/regime.py", title="Regime map"),
            ],
        })
    rerun_after_reconnect()  # a session that reconnects to another replica is rerun there, not left idle
    pg.run()
