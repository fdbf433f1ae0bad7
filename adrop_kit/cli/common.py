"""What every subcommand shares: one-line failures, plain-text tables, color, the tracking plan
argument, the retry flags, and `out()` (the one place the CLI writes results)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from adrop_kit.cli.argtypes import column_names, count, delimiter, encoding, positive
from adrop_kit.errors import AdropError
from adrop_kit.send.retry import RetryPolicy
from adrop_kit.spec.catalog import Catalog, ParamSpec
from adrop_kit.support import width as columns

PROG = "adrop-kit"


class Fail(Exception):
    """A one-line problem with an input: printed as `adrop-kit: error: <file>: <problem>`, exit 2."""


def add_retry_arguments(parser: argparse.ArgumentParser, default: RetryPolicy) -> None:
    """--retries, --max-retry-time and --timeout, their defaults taken from `default`."""
    parser.add_argument("--retries", metavar="N", type=count, default=None,
                        help=f"retries per event after the first attempt (default: {default.retries})")
    parser.add_argument("--max-retry-time", metavar="S", type=positive, default=None,
                        help=f"give up on an event after S seconds of trying (default: {default.max_retry_time:g})")
    parser.add_argument("--timeout", metavar="S", type=positive, default=None,
                        help=f"seconds one request may take in all (default: {default.timeout:g})")
    parser.set_defaults(retry_default=default)


META_HELP = ("columns that are metadata, not event parameters: never checked, never sent (repeatable, or "
             "comma-separated); they add to the default `ts` and to any column whose name starts with `_`")


def add_meta_columns_argument(parser: argparse.ArgumentParser) -> None:
    """--meta-columns COL[,COL…] (repeatable): the CLI form of `extra_columns=`."""
    parser.add_argument("--meta-columns", metavar="COL[,COL…]", type=column_names, action="extend", default=[],
                        help=META_HELP)


DELIMITER_HELP = ("the CSV field separator: , ; '|' or tab (also: comma, semicolon, pipe, '\\t'); "
                  "default: sniffed from the header and the first records")


def add_delimiter_argument(parser: argparse.ArgumentParser) -> None:
    """--delimiter for CSV inputs."""
    parser.add_argument("--delimiter", metavar="SEP", type=delimiter, default=None, help=DELIMITER_HELP)
    parser.add_argument("--encoding", metavar="NAME", type=encoding, default=None,
                        help="a CSV file's text encoding (cp949, euc-kr, latin-1, …); default: UTF-8, and CP949 "
                             "when the file is not UTF-8 (the report says so)")


def add_mapping_argument(parser: argparse.ArgumentParser) -> None:
    """--mapping for validate and send: renames and value fixes applied before checking."""
    parser.add_argument("--mapping", metavar="FILE", type=Path,
                        help="a mapping file (TOML) whose [rename], [fix.COLUMN] and [case] tables fix every row "
                             "before it is checked (Purchase -> purchase, iOS -> ios, krw -> KRW); the report says "
                             "how many rows each rule changed")


def checked_mapping(args: argparse.Namespace, catalog: Catalog) -> Path | None:
    """The --mapping file, read once here so a mistake in it is a usage error naming its line."""
    if getattr(args, "mapping", None) is None:
        return None
    from adrop_kit.io.importers.mapping import load_mapping

    try:
        load_mapping(args.mapping, catalog=catalog)
    except AdropError as exc:
        raise Fail(" ".join(str(exc).split())) from None
    return args.mapping


def meta_columns(args: argparse.Namespace) -> tuple[str, ...]:
    """The metadata columns the flags name, after the default ones (`ts`)."""
    from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS

    return tuple(dict.fromkeys((*DEFAULT_EXTRA_COLUMNS, *args.meta_columns)))


def retry_policy(args: argparse.Namespace) -> RetryPolicy:
    """The policy the retry flags ask for."""
    return args.retry_default.replace(retries=args.retries, max_retry_time=args.max_retry_time,
                                      timeout=args.timeout)


def load_catalog(plan: Path | None) -> Catalog:
    if plan is None:
        return Catalog.standard()
    if not plan.exists():
        raise Fail(f"{plan}: no such tracking plan file")
    try:
        return Catalog.from_file(plan)
    except (AdropError, OSError) as exc:
        # catalog's messages name the plan; keep "<file>: <problem>" without saying the name twice
        raise Fail(one_line(plan, str(exc).replace(f"tracking plan {plan}", "tracking plan"))) from None


def one_line(path: Path, problem: object) -> str:
    """`<file>: <problem>` on one line, unless the problem already starts with the file name."""
    if isinstance(problem, OSError) and problem.strerror:  # e.g. "[Errno 13] ...: 'x'" -> "Permission denied"
        problem = problem.strerror
    text = " ".join(str(problem).split())
    name = str(path)
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


def or_(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def params(params: Iterable[ParamSpec]) -> str:
    return ", ".join(p.name + ("*" if p.required else "") for p in params)


def clip(value: Any, width: int) -> str:
    if value is None:
        return ""
    text = str(value)
    if text != text.strip() or not text:  # show where the blanks are: '  '
        text = repr(text)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return columns.clip(text, width)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], style: Style, *,
           right: set[int] | frozenset[int] = frozenset(), indent: str = "") -> list[str]:
    """Rows as aligned text columns; the last column is not padded. Severity cells are colored."""
    cells = [[("" if c is None else f"{c:,}" if isinstance(c, int) else str(c)) for c in row] for row in rows]
    widths = [max(columns.width(h), *(columns.width(r[i]) for r in cells)) if cells else columns.width(h)
              for i, h in enumerate(header)]
    last = len(header) - 1
    sev = list(header).index("severity") if "severity" in header else -1

    def line(row: Sequence[str], paint: Callable[[str], str] | None = None) -> str:
        parts = []
        for i, cell in enumerate(row):
            padded = (cell if i == last else columns.rjust(cell, widths[i]) if i in right
                      else columns.ljust(cell, widths[i]))
            parts.append(style.severity(cell, padded) if i == sev and not paint else padded)
        text = "  ".join(parts).rstrip()
        return indent + (paint(text) if paint else text)

    return [line(list(header), style.dim)] + [line(r) for r in cells]


def out(text: str) -> None:
    print(text)


def silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class Style:
    """ANSI color, only when stdout is a terminal and NO_COLOR is not set (https://no-color.org)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stdout(cls) -> Style:
        isatty = getattr(sys.stdout, "isatty", None)
        return cls(bool(isatty and isatty()) and not os.environ.get("NO_COLOR")
                   and os.environ.get("TERM") != "dumb")

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._sgr("1", text)

    def dim(self, text: str) -> str:
        return self._sgr("2", text)

    def red(self, text: str) -> str:
        return self._sgr("31", text)

    def green(self, text: str) -> str:
        return self._sgr("32", text)

    def yellow(self, text: str) -> str:
        return self._sgr("33", text)

    def severity(self, cell: str, padded: str) -> str:
        if cell == "error":
            return self.red(padded)
        if cell == "warning":
            return self.yellow(padded)
        return padded
