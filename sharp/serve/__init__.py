"""The server's machinery: what one app process shares between its visitors.

pool (the training jobs and the threads that advance them; `shared()` is the process's one), entry (a
job's state and its drawn charts), jobs (a blocking computation run in slices), live_run (a live run
shared by visitors, and each visitor's view of it), scene_store (the kiosk's finished runs), placement (the paper
pages' sweeps on a Dask cluster or here), warm (each page's default computed ahead of its first visitor) and
runtime (thread priorities, the timed collector). Imports the engine, the experiments and sharp.distributed,
never Streamlit or the pages (ui/, web/, views/).
"""
