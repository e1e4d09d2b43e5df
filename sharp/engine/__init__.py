"""The engine, floor 0: the maths of one run and of a grid of runs, with no knowledge of pages or servers.

config (the frozen run configuration), data (±1 inputs and parity labels), nets (two-layer and deep
networks, their linearization), metrics, train (training as a stream of snapshots), sweep (a grid of runs
into a tidy frame), store (finished runs on disk, keyed by configuration and a digest of this engine's code)
and threads (the engine's share of the cores). Imports nothing from sharp.experiments, sharp.serve or above.
"""
