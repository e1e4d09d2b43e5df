"""The block every page shows below its figure: what the paper says (quoted, with its source), what this app chose
where the paper is silent, and what was measured here at the page's settings, always apart and in that order.

The paper's words and the app's choices come from `sharp.experiments.claims` (the one definition of the setup);
the measured sentences are the page's own, computed from the frame it draws.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from sharp.experiments.claims import QUOTES, Bound, bounds_lines, choice

PAPER, CHOSE, MEASURED = "The paper says", "We chose", "Measured here"  # the block's three headings


def paper_markdown(quotes: Sequence[str] = (), bounds: Sequence[tuple[tuple[Bound, ...], tuple[str, ...]]] = ()
                   ) -> str:
    """The paper's statements: each quote as a block quote with its source, then the named rates of the poster's
    tables, each row named as the upper bound it is.

    Args:
        quotes: keys of `claims.QUOTES`.
        bounds: (table, rates) pairs, e.g. (claims.TABLE2, ("samples",)).
    Example: paper_markdown(["theorem"]).startswith("> Theorem (informal)")
    """
    parts = [QUOTES[q].markdown() for q in quotes]
    for table, rates in bounds:
        source = "Table 1" if any("test loss" in b.rates for b in table) else "Table 2"
        parts.append(f"Poster {source} (every entry an upper bound from an analysis, constants dropped):\n\n"
                     + "\n".join(f"- {line}" for line in bounds_lines(table, rates)))
    return "\n\n".join(parts)


def choices_markdown(topics: Sequence[str]) -> str:
    """The app's choices on these topics (`claims.CHOICES`), one line each: what the paper says of it, what the
    app does, and why. Example: choices_markdown(["log base"]).startswith("- **log base**")"""
    lines = []
    for t in topics:
        c = choice(t)
        lines.append(f"- **{c.topic}** (the paper: {c.paper}): {c.here}. *Why:* {c.why}.")
    return "\n".join(lines)


Sentence = str | tuple[bool, str]  # a sentence, or (good news?, sentence) drawn as a success or a warning


def block(quotes: Sequence[str] = (), bounds: Sequence[tuple[tuple[Bound, ...], tuple[str, ...]]] = (),
          chose: Sequence[str] = (), measured: Sequence[Sentence] | Sentence = (), where: Any = None) -> None:
    """Draw the claims block: "The paper says" and "We chose" side by side, "Measured here" below them.

    Each measured sentence is its own element (a test finds it word for word): Markdown, or a success or warning
    box for a (verdict, sentence) pair.

    Args:
        quotes, bounds: the paper's statements (see `paper_markdown`).
        chose: topics of `claims.CHOICES`.
        measured: the page's computed sentences, or one sentence.
        where: a Streamlit container (default: the page).
    """
    where = st if where is None else where
    measured = [measured] if isinstance(measured, str | tuple) else list(measured)
    with where.container(border=True):
        left, right = st.columns(2, gap="medium")
        left.markdown(f"**{PAPER}**\n\n" + (paper_markdown(quotes, bounds) or "Nothing on this setting."))
        right.markdown(f"**{CHOSE}** (where the paper is silent; the Theory page lists every choice)\n\n"
                       + (choices_markdown(chose) or "Nothing beyond the setup on the Theory page."))
        st.markdown(f"**{MEASURED}**, at the settings above:")
        for sentence in measured:
            if isinstance(sentence, tuple):
                (st.success if sentence[0] else st.warning)(sentence[1])
            else:
                st.markdown(sentence)
