"""Settings from URL parameters, for any page: a small spec per setting, one warning per bad value.

Whoever sends a link controls every byte of its query string. Each parameter a page reads is checked
against its `Param`; a bad one keeps its default and gets a one-line message naming it, its allowed
range and the default. The message echoes the value literally: truncated to `ECHO_CHARS`, control and
other invisible characters written as escapes, and set in a Markdown code span, so that neither
Markdown, HTML, LaTeX nor Streamlit's :shortcodes: in it are rendered. Parameters the page does not read
get one note; a parameter given several times uses its last value (as `st.query_params` does) and says so.

Pure functions (no Streamlit): the pages pass `st.query_params` in and show the messages themselves.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sharp.engine.config import parse_bool

ECHO_CHARS = 40  # an echoed value or name is cut to this many characters (plus an ellipsis)
LIST_UNKNOWN = 5  # the unknown-parameter note names at most this many
UNKNOWN = "?"  # the problems key of that note (no setting has this name)
# Streamlit's own parameters (`?embed=true`), and the booth's hand-off parameters that the live page carries
# back to the kiosk loop (ui.kiosk): no page reads them as settings, but they are not the visitor's mistake.
RESERVED = frozenset({"embed", "embed_options", "from_kiosk", "idle_s", "scene_s"})
# A plain decimal number, ASCII digits only: Python's float() would also take "nan", "inf", "1_000" and
# non-ASCII digits such as "５０", none of which a URL should carry.
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,4})?", re.ASCII)
MAX_NUMBER_CHARS = 64  # longer text is not a number a page could want


@dataclass(frozen=True)
class Param:
    """What one setting accepts. Build with `Int`, `Float`, `Bool`, `Choice` or `Subset`."""

    kind: type  # int, float, bool or str: the type of the value (of each item when many)
    lo: float | None = None  # numbers: the smallest allowed value
    hi: float | None = None  # numbers: the largest allowed value
    choices: tuple = ()  # the allowed values (of each item when many); empty: any in [lo, hi]
    many: bool = False  # a comma-separated list of distinct choices (a multiselect), at least one
    even: bool = False  # integers: must be even (a width m: half the output weights +1, half -1)

    @property
    def bounds(self) -> tuple:
        """(lo, hi) for a number widget. Example: Int(1, 20).bounds -> (1, 20)"""
        return self.lo, self.hi

    def describe(self) -> str:
        """The allowed values in words. Example: Int(2, 200, even=True).describe() -> 'an even integer from 2 to 200'"""
        if self.kind is bool:
            return "true or false"
        if self.choices:
            options = ", ".join(str(c) for c in self.choices)
            return f"comma-separated values among {options} (at least one)" if self.many else f"one of {options}"
        what = ("an even integer" if self.even else "an integer") if self.kind is int else "a number"
        return f"{what} from {self.lo:g} to {self.hi:g}"

    def parse(self, text: str) -> Any:
        """The value of text, or ValueError. Example: Subset([25, 50, 100]).parse("50,25") -> [25, 50]"""
        s = text.strip()
        if self.many:
            items = [self._one(t) for t in s.split(",")]
            if len(set(items)) != len(items):
                raise ValueError("a value repeats")
            return sorted(items)
        return self._one(s)

    def _one(self, s: str) -> Any:
        s = s.strip()
        if self.kind is bool:
            return parse_bool(s)
        if self.kind is str:
            if s not in self.choices:
                raise ValueError("not a choice")
            return s
        x = number(s)
        if self.kind is int:
            if x != int(x) or (self.even and int(x) % 2):
                raise ValueError("not an allowed integer")
            x = int(x)
        if self.choices:
            if x not in self.choices:
                raise ValueError("not a choice")
        elif not self.lo <= x <= self.hi:
            raise ValueError("out of range")
        return x


def Int(lo: int, hi: int, even: bool = False) -> Param:  # noqa: N802 (a constructor, read like a type)
    return Param(int, lo, hi, even=even)


def Float(lo: float, hi: float) -> Param:  # noqa: N802
    return Param(float, float(lo), float(hi))


def Bool() -> Param:  # noqa: N802
    return Param(bool)


def Choice(options: Sequence) -> Param:  # noqa: N802
    """One of options (numbers or text). Example: Choice([256, 512]).parse("512") -> 512"""
    return Param(type(options[0]), choices=tuple(options))


def Subset(options: Sequence) -> Param:  # noqa: N802
    """A comma-separated selection of options. Example: Subset([1, 2, 3]).parse("3,1") -> [1, 3]"""
    return Param(type(options[0]), choices=tuple(options), many=True)


def number(s: str) -> float:
    """A finite decimal number from plain ASCII text, or ValueError. Example: number("1e2") -> 100.0"""
    if len(s) > MAX_NUMBER_CHARS or not NUMBER.fullmatch(s):
        raise ValueError("not a number")
    x = float(s)
    if not math.isfinite(x):  # "1e999"
        raise ValueError("not a finite number")
    return x


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
            problems[name] = (f"URL parameter {name}={literal(text)} is not allowed: {param.describe()}; "
                              f"using the default {shown}")
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
