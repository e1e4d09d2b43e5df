import streamlit as st

st.title("figure1")
st.info("This page is being built.")
