"""sharp: the Streamlit router. Pages live in pages/; they read widgets, call sharp, and draw."""
import streamlit as st

st.set_page_config(page_title="sharp: kernel vs feature learning", layout="wide")
pg = st.navigation([st.Page("pages/live.py", title="Kernel vs feature learning", default=True)])
pg.run()
