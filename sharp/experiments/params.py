"""Settings from URL parameters, for any page: a small spec per setting, one warning per bad value.

Whoever sends a link controls every byte of its query string. Each parameter a page reads is checked
against its `Param` (sharp.engine.param, the one parser of settings; a page's setting that is a Config field
takes that field's Param, narrowed to the page's range: `field`); a bad one keeps its default and gets a
one-line message naming it, its allowed range and the default. The message echoes the value literally:
truncated to `ECHO_CHARS`, control and other invisible characters written as escapes, and set in a
Markdown code span, so that neither Markdown, HTML, LaTeX nor Streamlit's :shortcodes: in it are rendered.
Parameters the page does not read get one note; a parameter given several times uses its last value (as
`st.query_params` does) and says so. Every page's spec is listed in sharp.experiments.pages.

Pure functions (no Streamlit): the pages pass `st.query_params` in and show the messages themselves.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sharp.engine import config
from sharp.engine.param import Bool, Choice, Float, Int, Param, Subset, not_allowed

__all__ = ["Bool", "Choice", "Float", "Int", "Param", "Subset", "code", "echo", "field", "literal", "parse",
           "to_text", "values_of"]

ECHO_CHARS = 40  # an echoed value or name is cut to this many characters (plus an ellipsis)
LIST_UNKNOWN = 5  # the unknown-parameter note names at most this many
UNKNOWN = "?"  # the problems key of that note (no setting has this name)
# Streamlit's own parameters (`?embed=true`), and the booth's hand-off parameters that the live page carries
# back to the kiosk loop (sharp.experiments.pages.HANDOFF): no page reads them as settings, but they are not the
# visitor's mistake.
RESERVED = frozenset({"embed", "embed_options", "from_kiosk", "idle_s", "scene_s"})


def field(name: str, lo: float | None = None, hi: float | None = None, *, choices: Sequence = (),
          many: bool = False, of: str | None = None) -> Param:
    """A page's setting that is a Config field: that field's Param (its kind, range, evenness), narrowed to what
    the page offers. `of` names the field when the setting's name differs (kernel_m is a width m).

    Raises ValueError when the page would offer a value the field does not take.
    Example: field("kernel_m", 2, 2048, of="m").describe() -> 'an even integer from 2 to 2048'
    """
    return config.param(of or name).narrow(lo, hi, choices, many)


def echo(text: Any, limit: int = ECHO_CHARS) -> str:
    """Untrusted text as a short, visible, quoted literal: cut to limit characters (then "…"), newlines,
    control, bidirectional and other invisible characters escaped. Example: echo("a\\nb") -> "'a\\\\nb'"
    """
    s = str(text)
    return repr(s[:limit] + "…" if len(s) > limit else s)


def code(text: str) -> str:
    """Markdown that shows text literally: a code span whose fence is longer than any backtick run inside.

    Example: code("a`b") -> "``a`b``"
    """
    # Streamlit's front end rewrites ":material/" to ":material_" everywhere in the source, code spans
    # included; a word joiner (invisible) between the two keeps the text as it was.
    text = text.replace(":material/", ":material\u2060/")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def literal(text: Any) -> str:
    """`code(echo(text))`: untrusted text, safe to put in any Streamlit message."""
    return code(echo(text))


def to_text(value: Any) -> str:
    """A setting as URL text that parses back to it. Example: to_text([25, 50]) -> '25,50'; to_text(20.0) -> '20'"""
    if isinstance(value, list | tuple):
        return ",".join(to_text(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):  # shortest text that parses back to the same number: 20 rather than 20.0
        return f"{value:g}" if float(f"{value:g}") == value else repr(value)
    return str(value)


def values_of(query: Any) -> dict[str, list[str]]:
    """Every value of every parameter: `st.query_params` (its get_all), or a mapping of text or lists of text."""
    out = {}
    for key in query:
        if hasattr(query, "get_all"):
            vals = list(query.get_all(key))
        else:
            v = query[key]
            vals = list(v) if isinstance(v, list | tuple) else [v]
        out[str(key)] = [str(v) for v in vals]
    return out


def parse(query: Any, spec: Mapping[str, Param], defaults: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the URL parameters a page reads; report each bad one, the repeated ones, and the unknown ones.

    Args:
        query: `st.query_params`, or a mapping name -> text or list of texts (a list uses its last value).
        spec: the page's settings: name -> Param.
        defaults: name -> default value (named in the messages).
    Returns:
        (values, problems): the accepted values by name; one message per problem, by setting name (UNKNOWN
        for the note about parameters the page does not read), each a Markdown line that echoes the text.
    Example:
        >>> parse({"seeds": "many"}, {"seeds": Int(1, 8)}, {"seeds": 4})[1]["seeds"]
        "URL parameter seeds=`'many'` is not allowed: an integer from 1 to 8; using the default 4"
    """
    given = values_of(query)
    values, problems = {}, {}
    for name, param in spec.items():
        texts = given.get(name)
        if not texts:
            continue
        text = texts[-1]
        try:
            values[name] = param.parse(text)
        except ValueError:
            default = defaults[name]
            shown = ", ".join(map(to_text, default)) if isinstance(default, list | tuple) else to_text(default)
            problems[name] = "URL parameter " + not_allowed(name, literal(text), param.describe(),
                                                            f"the default {shown}")
            continue
        if len(set(texts)) > 1:
            problems[name] = (f"URL parameter {name} was given {len(texts)} times; using the last value, "
                              f"{literal(text)}")
    unknown = [k for k in given if k not in spec and k.lower() not in RESERVED]
    if unknown:
        shown = ", ".join(literal(k) for k in unknown[:LIST_UNKNOWN])
        more = f" and {len(unknown) - LIST_UNKNOWN} more" if len(unknown) > LIST_UNKNOWN else ""
        verb = "is not a setting of this page" if len(unknown) == 1 else "are not settings of this page"
        problems[UNKNOWN] = (f"URL parameter{'s' if len(unknown) > 1 else ''} {shown}{more} {verb}, ignored "
                             f"(it reads {', '.join(spec)})")
    return values, problems
