"""sharp: the Streamlit router. Pages live in pages/; they read widgets, call sharp, and draw."""
import streamlit as st

st.set_page_config(page_title="sharp: kernel vs feature learning", page_icon="✳️", layout="wide")
pg = st.navigation({
    "Live": [st.Page("pages/live.py", title="Kernel vs feature learning", default=True)],
    "The paper's claims": [
        st.Page("pages/figure1.py", title="Poster Fig 1"),
        st.Page("pages/iterations.py", title="Iterations vs d"),
        st.Page("pages/samples.py", title="Sample complexity"),
        st.Page("pages/deep.py", title="Deep nets, kernel regime"),
        st.Page("pages/theory.py", title="Theory"),
    ],
})
pg.run()
