"""argparse `type=` converters shared by every subcommand: one message style, checked once."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _bounded(convert: Callable[[str], float], what: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    parse.__name__ = what  # argparse names the converter in some messages
    return parse


count = _bounded(int, "a whole number, 0 or more", lambda n: n >= 0)
at_least_one = _bounded(int, "a whole number, 1 or more", lambda n: n >= 1)
fraction = _bounded(float, "a number between 0 and 1", lambda f: 0.0 <= f <= 1.0)
positive = _bounded(float, "a number above 0", lambda f: f > 0)
non_negative = _bounded(float, "a number, 0 or more", lambda f: f >= 0)
port = _bounded(int, "a port number between 0 and 65535", lambda p: 0 <= p <= 65535)


def column_names(text: str) -> list[str]:
    """`COL[,COL…]` → the names (for `action="extend"`: the option may also be repeated)."""
    names = [n.strip() for n in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return names


column_names.__name__ = "column names"


_DELIMITERS = {",": ",", ";": ";", "|": "|", "\t": "\t", "\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";",
               "pipe": "|"}


def delimiter(text: str) -> str:
    """A CSV field separator: `,` `;` `|` or a tab (`\\t`, `tab`, or the names comma, semicolon, pipe)."""
    sep = _DELIMITERS.get(text.lower() if len(text) > 1 else text)
    if sep is None:
        raise argparse.ArgumentTypeError(f"expected , ; '|' or tab as the CSV delimiter, got {text!r}")
    return sep


delimiter.__name__ = "CSV delimiter"


def warning_rules(text: str) -> str:
    """`--hold-warnings` value: `all`, or warning rule ids `W101,W107` (checked against the rules)."""
    from adrop_kit.spec.rules import Rule

    if text.strip().lower() == "all":
        return "all"
    warnings = {r.value for r in Rule if r.severity == "warning"}
    ids = [i.strip().upper() for i in text.split(",")]
    for i in ids:
        if i not in warnings:
            known = ("an error rule (rows with errors are never sent)" if i in {r.value for r in Rule}
                     else "not a rule id")
            raise argparse.ArgumentTypeError(
                f"{i or text!r} is {known}; expected 'all' or warning rule ids such as W101,W107 "
                f"({', '.join(sorted(warnings))}); to hold every warning, write --hold-warnings after PATH")
    return ",".join(ids)


warning_rules.__name__ = "warning rule ids"


def encoding(text: str) -> str:
    """A text encoding Python knows (`cp949`, `euc-kr`, `latin-1`, `utf-8`), by its canonical name."""
    import codecs

    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r}; e.g. utf-8, cp949, euc-kr, latin-1, "
                                         "shift_jis") from None


encoding.__name__ = "encoding"
