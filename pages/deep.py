import streamlit as st

st.title("deep")
st.info("This page is being built.")
