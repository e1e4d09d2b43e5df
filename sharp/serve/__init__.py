"""The server's machinery, floor 2: what one app process shares between its visitors.

scheduler (the training jobs and the threads that advance them), jobs (shared sweeps by key), warm (each
page's default computed ahead of its first visitor) and runtime (thread priorities, the timed collector).
Imports the engine and the experiments, never Streamlit or the pages (ui/, views/).
"""
