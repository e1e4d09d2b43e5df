"""The page guard: a script in the HTML page itself, outside Streamlit's React tree, that reloads a broken page.

Why outside the tree: Streamlit's frontend can throw while applying an update (its console then says, for
instance, `Error: Bad delta path index ...`) and drop its whole element tree, leaving the page white for good.
A watchdog sent by the app (`st.html`) lives in that tree and goes with it. This one (web/static/guard.js) is part
of the page's HTML, served by the server's own routes for "/" and each page's path (`routes`, first in the ASGI
app's route list, so they answer before Streamlit's static files; any other path still gets Streamlit's
unmodified page). It runs before Streamlit's code and survives anything the frontend does to its tree.

It reloads the page (same URL, so the visitor's settings and run: every page keeps them in its URL) when
  * the console or an uncaught error reports a broken element tree (`FATAL`), about a second later;
  * the app had drawn something and its root has shown no text for BLANK_S seconds;
  * nothing at all was drawn within FIRST_S seconds of loading (a dropped connection at the very start);
at most RELOADS times in RELOADS_WINDOW_S seconds (kept in sessionStorage, key sharpReloads; the reason of the
last in sharpReloadWhy), so a page that cannot recover does not reload forever.

This is the app's one watchdog: a page needs no second one inside Streamlit's element tree, which is what breaks.

One more recovery needs no reload: `rerun_after_reconnect`, for a session whose server went away (a replica
lost behind the proxy, or a restarted server).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from sharp.serve.pool import shared
from web.scripts import source

ARRIVAL_S = 5.0  # a page being opened pauses the server's background work this long (its first points come sooner)
BLANK_S = 4.0
FIRST_S = 120.0
RELOADS = 3
RELOADS_WINDOW_S = 300.0
# Streamlit's frontend errors that mean its element tree no longer matches the server's (see its delta visitors).
FATAL = (r"Bad delta path|Cannot set a node at a delta path|'setIn' cannot be called|"
         r"TransientNode has no anchor")
VIEWS = Path(__file__).resolve().parents[1] / "views"


def script() -> str:
    """The guard as an inline <script> element (pure text; `index_html` puts it first in the page's <head>)."""
    cfg = json.dumps({"blankMs": BLANK_S * 1000, "firstMs": FIRST_S * 1000, "max": RELOADS,
                      "windowMs": RELOADS_WINDOW_S * 1000, "fatal": FATAL})
    return f"<script>({source('guard')})({cfg});</script>"


@functools.cache
def index_html() -> str:
    """Streamlit's own page (its static index.html) with the guard first in <head>, and the app's style for narrow
    screens (web/static/narrow.css: on a phone, each page's figure comes right after its title)."""
    import streamlit

    text = (Path(streamlit.__file__).parent / "static" / "index.html").read_text()
    style = (Path(__file__).parent / "static" / "narrow.css").read_text()
    return text.replace("<head>", f"<head>{script()}<style>{style}</style>", 1)


def page_paths() -> list[str]:
    """The URL paths that serve the app's page: "/" and each page's (Streamlit names a page by its file's stem)."""
    return ["/"] + sorted("/" + p.stem for p in VIEWS.glob("*.py") if not p.stem.startswith("_"))


def routes() -> list:
    """Starlette routes answering GET and HEAD on each page path with the guarded page (no-cache, like Streamlit's)."""
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def page(request: Any) -> HTMLResponse:
        shared().hold_background(ARRIVAL_S)  # a visitor arrives: their page loads before the warm-up goes on
        return HTMLResponse(index_html(), headers={"Cache-Control": "no-cache"})

    return [Route(path, page, methods=["GET", "HEAD"]) for path in page_paths()]


RECONNECT_TICK_S = 24 * 3600  # the fragment's own tick, far apart: what matters is that it is registered


def rerun_after_reconnect() -> None:
    """Make the browser ask for a full script run whenever its websocket reconnects; call once per script run.

    Streamlit's frontend, on reconnecting, asks for a script run only if one was under way, a fragment was
    running, or an auto-rerunning fragment is registered; otherwise it expects the server to still hold its
    session. A session whose replica died reconnects, through the proxy, to another replica that has never
    seen it: with no script run asked for, that replica sends nothing and the page's widgets stay dead
    (tests/test_replicas.py moves sessions so). An empty fragment with `run_every` registers such a
    rerun, so every reconnection reruns the page from its URL and widgets, on whichever replica answers.
    """
    import streamlit as st

    @st.fragment(run_every=RECONNECT_TICK_S)
    def reconnect_marker() -> None:
        pass

    reconnect_marker()
