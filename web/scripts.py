"""The pages' small browser scripts (web/static/*.js), as <script> elements a page sends with
st.html(..., unsafe_allow_javascript=True).

Each file is one JavaScript function taking its settings (`cfg`); `_script` calls it with them. Each installs
its listeners on the page's document once (a flag on window), so a page that sends the same script on every
rerun does not stack them; a script whose settings change only updates them. Streamlit runs such a script in
the page itself, not in an iframe. The element that carries a script is hidden by `HIDE`.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
# The st.html element that carries a script would otherwise leave a gap in the layout.
HIDE = "<style>.stElementContainer:has(script[data-sharp]) {display: none !important;}</style>"


@functools.cache
def source(name: str) -> str:
    """The text of web/static/NAME.js. Example: source("shortcuts").startswith("//")"""
    return (STATIC / f"{name}.js").read_text().rstrip()


def _script(name: str, cfg: dict[str, Any] | None = None) -> str:
    args = json.dumps(cfg or {}).replace("<", "\\u003c")  # no markup in the script's text
    return f"<script data-sharp>\n({source(name)})({args});\n</script>"


def shortcuts() -> str:
    """Live page keys: Space plays or pauses, the right arrow steps, R resets (new seeds).

    They press the page's own buttons (found by their keys: Streamlit gives each keyed element the class
    st-key-<key>), and are ignored while the visitor types or moves a control, so a focused slider still takes
    the arrow keys and a focused button still takes Space.
    """
    return _script("shortcuts")


def downloads() -> str:
    """Makes each chart's SVG / PNG buttons save that chart (those drawn inside an SVG chart by ui/figures._svg, and
    those beside the live page's charts, whose SVG comes from the server: web/stream.svg_endpoint).

    The saved SVG is the chart as drawn, with the theme's text colour and font written in (the SVG charts draw text
    in currentColor) and without the buttons; the PNG is that SVG drawn at twice its size on the page's
    background colour.
    """
    return _script("downloads")


def leave_kiosk(url: str) -> str:
    """Kiosk: a click, tap or key press opens `url` (the current scene's settings on the normal page).

    Modifier keys and function keys (F11 toggles full screen when setting up the booth) do not count.
    """
    return _script("leave_kiosk", {"url": url})


def return_when_idle(url: str, idle_s: float) -> str:
    """A page entered from the kiosk: after idle_s seconds without a click, tap, key, scroll or pointer move,
    go back to the kiosk loop at `url`."""
    return _script("return_when_idle", {"url": url, "ms": round(float(idle_s) * 1000)})
