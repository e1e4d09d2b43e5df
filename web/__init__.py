"""The web server, beside app.py: what the server process does around Streamlit's own pages.

server (start-up before the first visitor, shutdown, the HTTP routes), stream (the live page's /api/live endpoint
and the live area it feeds), guard (the page guard in every page's HTML), scripts (the pages' small browser
scripts), and static/ (the browser's JavaScript, as .js files). Imports ui/ and sharp/, never views/ or app.py.
"""
