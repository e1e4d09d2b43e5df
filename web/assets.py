"""The browser files the server serves itself: the live page's script and the charting library it draws with.

They are served at `api/js/<name>` below the app's address (`routes`; web.server puts every route of the app
under Streamlit's `server.baseUrlPath`). A page asks for `url(name)`: a relative URL with the file's content hash
in it, so that a changed file is fetched anew while an unchanged one comes from the browser's cache. Relative,
like Streamlit's own files, it resolves against the page's address, so it works under a path prefix and behind
a proxy that forwards only a sub-path.

The charting library (uPlot) is vendored in web/static/vendor/ (its README says from where and which version),
with its licence: nothing is fetched from elsewhere at run time.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
FILES = {  # the name in the URL -> the file (the live area carries uPlot's style sheet inline: web/stream.STYLE)
    "live.js": STATIC / "live.js",
    "uplot.js": STATIC / "vendor" / "uplot" / "uPlot.iife.min.js",
}
UPLOT_CSS = STATIC / "vendor" / "uplot" / "uPlot.min.css"
TYPES = {".js": "text/javascript; charset=utf-8"}
PATH = "api/js/"


@functools.cache
def body(name: str) -> bytes:
    return FILES[name].read_bytes()


@functools.cache
def url(name: str) -> str:
    """The file's URL relative to the app's address, versioned by its content. Example: url("live.js")"""
    return f"{PATH}{name}?v={hashlib.sha1(body(name)).hexdigest()[:12]}"


def routes() -> list:
    """GET api/js/<name> for each file in FILES (a day in the browser's cache: its URL changes with it); 404 else."""
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def serve(request: Any) -> Response:
        name = request.path_params["name"]
        if name not in FILES:
            return PlainTextResponse("not found", status_code=404)
        return Response(body(name), media_type=TYPES[FILES[name].suffix],
                        headers={"Cache-Control": "public, max-age=86400"})

    return [Route("/" + PATH + "{name}", serve)]
