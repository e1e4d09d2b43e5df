"""Shared by the URL fuzz tests: the app's pages (read from app.py), their links (the registry
sharp.experiments.pages.PAGES) and values no setting accepts.

Pages come from the `st.Page(...)` calls in app.py, and each page's parameters from the registry the page
itself reads its link through, so every page is fuzzed on every parameter it reads, and a page added to
app.py without a link in the registry fails the tests (`link`).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from sharp.experiments.pages import PAGES, Link

ROOT = Path(__file__).resolve().parents[1]

# Text that no setting of any page accepts (every page setting is a bounded non-negative number, a choice of
# words or numbers, or a boolean): the kinds of item 6 of issue 10, plus URL and Markdown tricks.
HOSTILE = [
    "", " ", "abc", "nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "-1", "-0.5", "9" * 400, "12abc",
    "0x10", "1_000", "５０", "٣", "1,,2", "50,50", "%00", "null", "[]", "--d 5", "d=5&n=6", "../../etc/passwd",
    "<script>alert(1)</script>", "<b>bold</b>", "**bold**", "[link](http://example.com)", "$x^2$", ":red[x]",
    ":material/home:", "``code``", "a\nb", "\x00", "\r\n#", "\u202eevil", "😀", "x" * 5000, "é" * 300,
]
# Parameter names no page reads.
UNKNOWN_KEYS = ["zz", "<b>x</b>", "😀", "D", "d ", "k" * 300, ":material/home:", "a`b"]


@dataclass(frozen=True)
class Page:
    path: str  # the script, relative to the repo root: "views/figure1.py"
    url: str  # its address below the server's root: "" (the default page) or "figure1"


def pages() -> list[Page]:
    """Every page registered in app.py, in order."""
    tree = ast.parse((ROOT / "app.py").read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page" and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            url = "" if kw.get("default") else kw.get("url_path", Path(first.value).stem)
            out.append(Page(first.value, url))
    return out


def link(page: Page) -> Link:
    """The page's entry in the registry (keyed by its script's name). Example: link(Page("views/tour.py", "tour"))"""
    stem = Path(page.path).stem
    assert stem in PAGES, f"{page.path} has no link in sharp.experiments.pages.PAGES"
    return PAGES[stem]


def fuzzed(page: Page) -> list[str]:
    """The parameters a link to the page may carry anything in: all it reads but those every link carries."""
    lk = link(page)
    return [k for k in lk.spec if k not in lk.fixed]


READS = re.compile(r"\(it reads ([^)]*)\)")


def reads(warnings: list[str]) -> list[str] | None:
    """The parameters a page says it reads, from its unknown-parameter note; None if it gave none."""
    for w in warnings:
        if m := READS.search(w):
            return m.group(1).split(", ")
    return None
