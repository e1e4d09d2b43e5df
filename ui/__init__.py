"""Presentation helpers for the pages: pure figure builders (data in, Plotly figure out) and widget glue.

Nothing here trains; training lives in sharp/.
"""
