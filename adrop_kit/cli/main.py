"""The `adrop-kit` command: a thin shell over the Python API.

    adrop-kit validate PATH [--plan FILE] [--strict] [--format table|json] [--limit N]
    adrop-kit catalog [--plan FILE] [--format table|json]
    adrop-kit sample N --out FILE [--seed S] [--error-rate F]
    adrop-kit rules [--format table|json]
    adrop-kit send PATH [--endpoint URL] [--concurrency N] [--rate R] [--journal FILE] [--dry-run] ...
    adrop-kit serve [--host H] [--port P] [--app-key KEY] [--db FILE] [--fail-rate F] ... (see cli_net.py)

Exit codes: 0 all good (warnings allowed), 1 at least one invalid row (or rejected),
2 usage error, unreadable input or bad tracking plan, 3 delivery failed after retries, 130 interrupted.
Heavy modules (polars, the dataset validator, the sample writer) are imported
inside the subcommand that needs them, so `adrop-kit --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._argtypes import count as _count
from ._argtypes import fraction as _fraction
from .catalog import PLATFORMS, Catalog, ParamSpec
from .errors import AdropError
from .rules import Rule

if TYPE_CHECKING:
    from .report import DatasetReport

PROG = "adrop-kit"
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141
DEFAULT_LIMIT = 20
VALUE_WIDTH = 28
SAMPLE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".parquet")


_SUBCOMMAND_MODULES = ("cli_net", "cli_contract", "cli_export", "cli_lab")
"""Modules with `add_parsers(sub, *, fmt, plan, count, fraction)`; each is optional."""


class _Fail(Exception):
    """A one-line problem with an input file: printed as `adrop-kit: error: <file>: <problem>`, exit 2."""


# -- entry point ---------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        code = args.run(args)
        sys.stdout.flush()  # surface a broken pipe here, not at interpreter exit
        return code
    except _Fail as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (OSError, ValueError, AdropError) as exc:  # a bad setting or an unusable file we did not foresee
        print(f"{PROG}: error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Check event data against Adrop's event contract before it is sent to POST /event.",
        epilog="Exit codes: 0 all good (warnings allowed), 1 invalid or rejected rows, 2 usage or input problem, "
               "3 delivery failed after retries.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = {"choices": ("table", "json"), "default": "table", "help": "output format (default: table)"}
    plan = {"metavar": "FILE", "type": Path, "help": "tracking plan (.toml or .json) with custom events or parameters"}

    v = sub.add_parser("validate", help="check a dataset (.csv, .jsonl, .ndjson, .json, .parquet)",
                       description="Check every row of a dataset against the contract and report what breaks.")
    v.add_argument("path", metavar="PATH", type=Path, help="the dataset to check")
    v.add_argument("--plan", **plan)
    v.add_argument("--strict", action="store_true", help="events outside the catalog are errors (W101 becomes one)")
    v.add_argument("--format", **fmt)
    v.add_argument("--limit", metavar="N", type=_count, default=DEFAULT_LIMIT,
                   help=f"violations listed in the table (default: {DEFAULT_LIMIT}; json always lists all)")
    v.set_defaults(run=cmd_validate)

    c = sub.add_parser("catalog", help="list the events and parameters the contract knows",
                       description="List every event of the catalog, its group and parameters (* = required).")
    c.add_argument("--plan", **plan)
    c.add_argument("--format", **fmt)
    c.set_defaults(run=cmd_catalog)

    s = sub.add_parser("sample", aliases=["synth"],
                       help="write a realistic sample dataset with a few deliberate errors",
                       description="Write N synthetic events; the format follows the file's suffix.")
    s.add_argument("n", metavar="N", type=_count, help="number of events")
    s.add_argument("--out", metavar="FILE", type=Path, required=True,
                   help=f"where to write ({_or(SAMPLE_SUFFIXES)})")
    s.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default: 0)")
    s.add_argument("--error-rate", metavar="F", type=_fraction, default=0.03,
                   help="share of rows with a deliberate error, 0..1 (default: 0.03)")
    s.set_defaults(run=cmd_sample)

    import importlib

    for module in _SUBCOMMAND_MODULES:  # the network / contract / notebook halves register their own commands
        try:
            mod = importlib.import_module(f".{module}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{module}":
                raise
            continue
        mod.add_parsers(sub, fmt=fmt, plan=plan, count=_count, fraction=_fraction)

    r = sub.add_parser("rules", help="list the rule ids a report can name",
                       description="List every rule of the contract: id, severity and what it checks.")
    r.add_argument("--format", **fmt)
    r.set_defaults(run=cmd_rules)
    return p


# -- subcommands ---------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a dataset; exit 1 when any row is invalid."""
    catalog = _load_catalog(args.plan)
    path: Path = args.path
    if not path.exists():
        raise _Fail(f"{path}: no such file")
    from . import validate_events  # loads polars and the dataset validator

    try:
        report = validate_events(path, catalog=catalog, strict=args.strict)
    except (AdropError, OSError) as exc:  # DataReadError is both
        raise _Fail(_one_line(path, exc)) from None
    if args.format == "json":
        _out(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        _print_report(report, str(path), limit=args.limit, strict=args.strict, style=_Style.for_stdout())
    return EXIT_INVALID if report.invalid else EXIT_OK


def cmd_catalog(args: argparse.Namespace) -> int:
    """Show the catalog (standard, or extended by a tracking plan)."""
    catalog = _load_catalog(args.plan)
    if args.format == "json":
        _out(json.dumps(catalog.to_dict(), ensure_ascii=False))
        return EXIT_OK
    st = _Style.for_stdout()
    if args.plan is not None:
        _out(f"Standard catalog plus {args.plan} ({_n(sum(e.custom for e in catalog), 'custom event')}).\n")
    rows = [(e.group, e.name + (" (custom)" if e.custom else ""), _params(e.params) or "—") for e in catalog]
    for line in _table(("group", "event", "parameters (* = required)"), rows, st):
        _out(line)
    _out("")
    _out(f"items[] parameters: {_params(catalog.item_params)}")
    _out(f"Every event also carries uid*, eventName*, platform ({', '.join(PLATFORMS)}).")
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    """Write a synthetic dataset for demos and benchmarks."""
    out: Path = args.out
    if out.suffix.lower() not in SAMPLE_SUFFIXES:
        kind = f"unknown file type {out.suffix!r}" if out.suffix else "no file type suffix"
        raise _Fail(f"{out}: {kind}; the format follows the suffix: {_or(SAMPLE_SUFFIXES)}")
    from .synth import write_sample  # loads polars

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_sample(out, args.n, seed=args.seed, error_rate=args.error_rate)
    except (AdropError, OSError, ValueError) as exc:
        raise _Fail(_one_line(out, exc)) from None
    _out(f"Wrote {_n(args.n, 'event')} to {out} (seed {args.seed}, about {args.error_rate:.0%} with a "
         f"deliberate error). Check them with: {PROG} validate {out}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    """List the rule ids, their severity and what each checks."""
    if args.format == "json":
        _out(json.dumps([{"rule": r.value, "severity": r.severity, "title": r.title} for r in Rule]))
        return EXIT_OK
    for line in _table(("rule", "severity", "what it checks"),
                       [(r.value, r.severity, r.title) for r in Rule], _Style.for_stdout()):
        _out(line)
    _out("")
    _out("Errors (E…) make Adrop answer !invalid; warnings (W…) are accepted but probably a data bug.")
    _out("--strict turns W101 (an event outside the catalog) into an error.")
    return EXIT_OK


# -- validate's table ----------------------------------------------------------------
def _print_report(report: DatasetReport, source: str, *, limit: int, strict: bool, style: _Style) -> None:
    s = report.summary()
    n = report.violations.height
    _out(f"{style.bold(source)}: {_n(s['rows'], 'row')} checked in {report.elapsed_s:.2f} s"
         + (" (strict: events outside the catalog are errors)" if strict else ""))
    width = len(f"{s['rows']:,}")
    _out(f"  valid    {s['valid']:>{width},}")
    _out(f"  invalid  {s['invalid']:>{width},}   rows Adrop would reject with !invalid")
    _out(f"  warned   {s['warned']:>{width},}   valid rows with a warning worth a look")
    if n == 0:
        _out("")
        _out(style.green("Every row is valid and nothing looks off."))
        return

    _out("")
    _out(style.bold("By rule"))
    by_rule = report.by_rule().select("rule", "severity", "violations", "rows", "title").rows()
    for line in _table(("rule", "severity", "violations", "rows", "what it checks"), by_rule, style,
                       right={2, 3}, indent="  "):
        _out(line)

    if limit:
        _out("")
        _out(style.bold(f"First {min(limit, n):,} of {_n(n, 'violation')}" if n > limit else "Violations"))
        shown = [(r["row"], r["eventName"], r["rule"], r["severity"], r["field"],
                  _clip(r["value"], VALUE_WIDTH), r["message"])
                 for r in report.violations.head(limit).iter_rows(named=True)]
        for line in _table(("row", "eventName", "rule", "severity", "field", "value", "message"), shown, style,
                           right={0}, indent="  "):
            _out(line)
    if n > limit:
        _out(style.dim(f"… and {n - limit:,} more; use --format json for all"))

    _out("")
    if report.invalid:
        _out(style.red(f"{s['invalid']:,} of {_n(s['rows'], 'row')} would be rejected by Adrop. "
                       f"`{PROG} rules` explains each rule id."))
    else:
        _out(style.green(f"Every row is valid; {s['warned']:,} carry warnings worth a look."))


# -- helpers -------------------------------------------------------------------------
def _load_catalog(plan: Path | None) -> Catalog:
    if plan is None:
        return Catalog.standard()
    if not plan.exists():
        raise _Fail(f"{plan}: no such tracking plan file")
    try:
        return Catalog.from_file(plan)
    except (AdropError, OSError) as exc:
        # catalog's messages name the plan; keep "<file>: <problem>" without saying the name twice
        raise _Fail(_one_line(plan, str(exc).replace(f"tracking plan {plan}", "tracking plan"))) from None


def _one_line(path: Path, problem: object) -> str:
    """`<file>: <problem>` on one line, unless the problem already starts with the file name."""
    if isinstance(problem, OSError) and problem.strerror:  # e.g. "[Errno 13] ...: 'x'" -> "Permission denied"
        problem = problem.strerror
    text = " ".join(str(problem).split())
    name = str(path)
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


def _or(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _params(params: Iterable[ParamSpec]) -> str:
    return ", ".join(p.name + ("*" if p.required else "") for p in params)


def _clip(value: Any, width: int) -> str:
    if value is None:
        return ""
    text = str(value)
    if text != text.strip() or not text:  # show where the blanks are: '  '
        text = repr(text)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], style: _Style, *,
           right: set[int] | frozenset[int] = frozenset(), indent: str = "") -> list[str]:
    """Rows as aligned text columns; the last column is not padded. Severity cells are colored."""
    cells = [[("" if c is None else f"{c:,}" if isinstance(c, int) else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    last = len(header) - 1
    sev = list(header).index("severity") if "severity" in header else -1

    def line(row: Sequence[str], paint: Callable[[str], str] | None = None) -> str:
        parts = []
        for i, cell in enumerate(row):
            padded = cell if i == last else cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            parts.append(style.severity(cell, padded) if i == sev and not paint else padded)
        text = "  ".join(parts).rstrip()
        return indent + (paint(text) if paint else text)

    return [line(list(header), style.dim)] + [line(r) for r in cells]


def _out(text: str) -> None:
    print(text)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class _Style:
    """ANSI color, only when stdout is a terminal and NO_COLOR is not set (https://no-color.org)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stdout(cls) -> _Style:
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
