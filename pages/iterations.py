import streamlit as st

st.title("iterations")
st.info("This page is being built.")
