"""The web server, beside app.py: what the server process does around Streamlit's own pages.

server (start-up before the first visitor, shutdown, the HTTP routes, all below Streamlit's server.baseUrlPath),
stream (the live page's api/live endpoints and the live area it feeds), assets (the browser files the server serves:
the live page's script, the vendored charting library), guard (the page guard and the narrow-screen style in every
page's HTML), scripts (the pages' small browser scripts), and static/ (the browser's JavaScript and CSS, as files;
static/vendor/: third-party libraries, pinned, with their licences). Imports ui/ and sharp/, never views/ or app.py.
"""
