import streamlit as st

st.title("Kernel regime vs feature learning")
st.info("The live comparison is being built.")
