"""What one setting accepts, and text to its value: the one parser behind every Config field, CLI flag, page
link and environment variable, and the one message format for a value that is not allowed.

A `Param` says a setting's kind (int, float, bool or a choice of words or numbers), its range, and whether it
takes a comma-separated list. `Config`'s fields carry theirs in their metadata (sharp.engine.config); a page
narrows a field's Param to the range it offers (sharp.experiments.params.field) or states its own. Text is
read strictly: a plain ASCII decimal for a number (Python's float() would also take "nan", "inf", "1_000" and
non-ASCII digits such as "５０", none of which a link or a flag should carry), and 1/true/yes/on or
0/false/no/off for a boolean. A value that is not allowed gets `not_allowed`'s message, which names the
setting, the value and the allowed range.

Example:
    >>> Int(1, 8).parse("5e0")
    5
    >>> not_allowed("seeds", "'many'", Int(1, 8).describe(), "the default 4")
    "seeds='many' is not allowed: an integer from 1 to 8; using the default 4"
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,4})?", re.ASCII)  # a plain decimal number
MAX_NUMBER_CHARS = 64  # longer text is not a number a setting could want
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_bool(text: str) -> bool:
    """1/true/yes/on or 0/false/no/off, any case, spaces around allowed; else ValueError.

    Example: parse_bool(" On ") -> True
    """
    s = str(text).strip().lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_number(text: str) -> float:
    """A finite decimal number from plain ASCII text, or ValueError. Example: parse_number("1e2") -> 100.0"""
    s = str(text).strip()
    if len(s) > MAX_NUMBER_CHARS or not NUMBER.fullmatch(s):
        raise ValueError(f"not a number: {text!r}")
    x = float(s)
    if not math.isfinite(x):  # "1e999"
        raise ValueError(f"not a finite number: {text!r}")
    return x


def not_allowed(name: str, shown: str, allowed: str, using: str | None = None) -> str:
    """The one message for a value a setting does not take: the setting, the value as given, what is allowed,
    and what is used instead (if anything).

    Example: not_allowed("d", "'0'", "an integer from 2 to 4096") -> "d='0' is not allowed: an integer from 2 to 4096"
    """
    return f"{name}={shown} is not allowed: {allowed}" + (f"; using {using}" if using is not None else "")


@dataclass(frozen=True)
class Param:
    """What one setting accepts. Build with `Int`, `Float`, `Bool`, `Choice` or `Subset`."""

    kind: type  # int, float, bool or str: the type of the value (of each item when many)
    lo: float | None = None  # numbers: the smallest allowed value
    hi: float | None = None  # numbers: the largest allowed value
    choices: tuple = ()  # the allowed values (of each item when many); empty: any in [lo, hi]
    many: bool = False  # a comma-separated list of distinct choices (a multiselect), at least one
    even: bool = False  # integers: must be even (a width m: half the output weights +1, half -1)
    unit: str = ""  # numbers: what they count, for the description ("seconds")

    @property
    def bounds(self) -> tuple:
        """(lo, hi) for a number widget. Example: Int(1, 20).bounds -> (1, 20)"""
        return self.lo, self.hi

    def describe(self) -> str:
        """The allowed values in words. Example: Int(2, 200, even=True).describe() -> 'an even integer from 2 to 200'"""
        if self.kind is bool:
            return "true or false"
        if self.choices:
            options = ", ".join(_text(c) for c in self.choices)
            return f"comma-separated values among {options} (at least one)" if self.many else f"one of {options}"
        what = ("an even integer" if self.even else "an integer") if self.kind is int else "a number"
        unit = f" of {self.unit}" if self.unit else ""
        lo, hi = (str(int(v)) if self.kind is int else f"{v:g}" for v in (self.lo, self.hi))
        return f"{what}{unit} from {lo} to {hi}"

    def parse(self, text: str) -> Any:
        """The value of text, or ValueError. Example: Subset([25, 50, 100]).parse("50,25") -> [25, 50]"""
        s = str(text).strip()
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
            return self.check(s)
        x = parse_number(s)
        if self.kind is int:
            if x != int(x):
                raise ValueError("not an integer")
            x = int(x)
        return self.check(x)

    def check(self, value: Any) -> Any:
        """The value itself if this setting allows it (its type, choices, range, evenness), else ValueError.

        Example: Int(2, 8, even=True).check(4) -> 4; Int(2, 8).check(True) raises (a bool is not an integer)
        """
        t = self.kind
        ok = isinstance(value, t) and not (t is not bool and isinstance(value, bool))
        if t is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ValueError(f"not {self.describe()}")
        if self.choices:
            if value not in self.choices:
                raise ValueError("not a choice")
        elif t in (int, float):
            if not (math.isfinite(value) and self.lo <= value <= self.hi):
                raise ValueError("out of range")
            if self.even and value % 2:
                raise ValueError("not even")
        return value

    def narrow(self, lo: float | None = None, hi: float | None = None, choices: Sequence = (),
               many: bool = False) -> Param:
        """This setting as a page offers it: a tighter range, or some of its values to choose from.

        Raises ValueError if the page would offer a value this setting does not take.
        Example: Int(2, 4096).narrow(4, 400).describe() -> 'an integer from 4 to 400'
        """
        if lo is None and hi is None and not choices:
            return self
        if choices:
            out = dataclasses.replace(self, choices=tuple(choices), many=many)
            for c in choices:
                self.check(c)
            return out
        out = dataclasses.replace(self, lo=self.lo if lo is None else lo, hi=self.hi if hi is None else hi)
        self.check(out.lo)
        self.check(out.hi)
        return out


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def Int(lo: int, hi: int, even: bool = False, unit: str = "") -> Param:  # noqa: N802 (a constructor, read like a type)
    return Param(int, lo, hi, even=even, unit=unit)


def Float(lo: float, hi: float, unit: str = "") -> Param:  # noqa: N802
    return Param(float, float(lo), float(hi), unit=unit)


def Bool() -> Param:  # noqa: N802
    return Param(bool)


def Choice(options: Sequence) -> Param:  # noqa: N802
    """One of options (numbers or text). Example: Choice([256, 512]).parse("512") -> 512"""
    return Param(type(options[0]), choices=tuple(options))


def Subset(options: Sequence) -> Param:  # noqa: N802
    """A comma-separated selection of options. Example: Subset([1, 2, 3]).parse("3,1") -> [1, 3]"""
    return Param(type(options[0]), choices=tuple(options), many=True)
