"""`adrop-kit validate`, `catalog`, `sample` and `rules`: the dataset half of the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adrop_kit.cli import exits
from adrop_kit.cli.argtypes import count, fraction
from adrop_kit.cli.common import PROG, Fail, Style, clip, load_catalog, one_line, or_, out, params, plural, table
from adrop_kit.errors import AdropError
from adrop_kit.spec.catalog import PLATFORMS
from adrop_kit.spec.rules import Rule

if TYPE_CHECKING:
    from adrop_kit.validate.report import DatasetReport

DEFAULT_LIMIT = 20
VALUE_WIDTH = 28
SAMPLE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".parquet")


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    v = sub.add_parser("validate", help="check a dataset (.csv, .jsonl, .ndjson, .json, .parquet)",
                       description="Check every row of a dataset against the contract and report what breaks.")
    v.add_argument("path", metavar="PATH", type=Path, help="the dataset to check")
    v.add_argument("--plan", **plan)
    v.add_argument("--strict", action="store_true", help="events outside the catalog are errors (W101 becomes one)")
    v.add_argument("--format", **fmt)
    v.add_argument("--limit", metavar="N", type=count, default=DEFAULT_LIMIT,
                   help=f"violations listed in the table (default: {DEFAULT_LIMIT}; json always lists all)")
    v.add_argument("--engine", choices=("local", "spark"), default="local",
                   help="local (default): this process; spark: on a Spark cluster (pip install 'adrop-kit[spark]'; "
                        "PATH may be a directory, a glob or an s3a:// URI)")
    v.add_argument("--master", metavar="URL",
                   help="with --engine spark: the Spark master (local[2], spark://host:7077); "
                        "default: SPARK_REMOTE (Spark Connect) or spark-submit's")
    v.add_argument("--html", metavar="FILE", type=Path,
                   help="also write the report as one self-contained HTML page (counts, charts, the first "
                        "violations) to attach to a ticket")
    v.set_defaults(run=cmd_validate)

    c = sub.add_parser("catalog", help="list the events and parameters the contract knows",
                       description="List every event of the catalog, its group and parameters (* = required).")
    c.add_argument("--plan", **plan)
    c.add_argument("--format", **fmt)
    c.set_defaults(run=cmd_catalog)

    s = sub.add_parser("sample", aliases=["synth"],
                       help="write a realistic sample dataset with a few deliberate errors",
                       description="Write N synthetic events; the format follows the file's suffix.")
    s.add_argument("n", metavar="N", type=count, help="number of events")
    s.add_argument("--out", metavar="FILE", type=Path, required=True,
                   help=f"where to write ({or_(SAMPLE_SUFFIXES)})")
    s.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default: 0)")
    s.add_argument("--error-rate", metavar="F", type=fraction, default=0.03,
                   help="share of rows with a deliberate error, 0..1 (default: 0.03)")
    s.set_defaults(run=cmd_sample)

    r = sub.add_parser("rules", help="list the rule ids a report can name",
                       description="List every rule of the contract: id, severity and what it checks.")
    r.add_argument("--format", **fmt)
    r.set_defaults(run=cmd_rules)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a dataset; exit 1 when any row is invalid."""
    catalog = load_catalog(args.plan)
    path: Path = args.path
    if args.engine == "spark":  # pyspark and a session only when asked
        from adrop_kit.cli.spark import validate_on_spark

        report = validate_on_spark(args, catalog)
    else:
        if not path.exists():
            raise Fail(f"{path}: no such file")
        from adrop_kit import validate_events  # loads polars and the dataset validator

        try:
            report = validate_events(path, catalog=catalog, strict=args.strict)
        except (AdropError, OSError) as exc:  # DataReadError is both
            raise Fail(one_line(path, exc)) from None
    if args.html is not None:
        from adrop_kit.explore.report_page import write_report_page

        try:
            write_report_page(report, args.html)
        except OSError as exc:
            raise Fail(one_line(args.html, exc)) from None
    if args.format == "json":
        out(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        print_report(report, str(path), limit=args.limit, strict=args.strict, style=Style.for_stdout())
        if args.html is not None:
            out(f"The report as a page: {args.html}")
    return exits.for_dataset(report)


def cmd_catalog(args: argparse.Namespace) -> int:
    """Show the catalog (standard, or extended by a tracking plan)."""
    catalog = load_catalog(args.plan)
    if args.format == "json":
        out(json.dumps(catalog.to_dict(), ensure_ascii=False))
        return exits.OK
    st = Style.for_stdout()
    if args.plan is not None:
        out(f"Standard catalog plus {args.plan} ({plural(sum(e.custom for e in catalog), 'custom event')}).\n")
    rows = [(e.group, e.name + (" (custom)" if e.custom else ""), params(e.params) or "—") for e in catalog]
    for line in table(("group", "event", "parameters (* = required)"), rows, st):
        out(line)
    out("")
    out(f"items[] parameters: {params(catalog.item_params)}")
    out(f"Every event also carries uid*, eventName*, platform ({', '.join(PLATFORMS)}).")
    return exits.OK


def cmd_sample(args: argparse.Namespace) -> int:
    """Write a synthetic dataset for demos and benchmarks."""
    dest: Path = args.out
    if dest.suffix.lower() not in SAMPLE_SUFFIXES:
        kind = f"unknown file type {dest.suffix!r}" if dest.suffix else "no file type suffix"
        raise Fail(f"{dest}: {kind}; the format follows the suffix: {or_(SAMPLE_SUFFIXES)}")
    from adrop_kit.explore.synth import write_sample  # loads polars

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_sample(dest, args.n, seed=args.seed, error_rate=args.error_rate)
    except (AdropError, OSError, ValueError) as exc:
        raise Fail(one_line(dest, exc)) from None
    out(f"Wrote {plural(args.n, 'event')} to {dest} (seed {args.seed}, about {args.error_rate:.0%} with a "
        f"deliberate error). Check them with: {PROG} validate {dest}")
    return exits.OK


def cmd_rules(args: argparse.Namespace) -> int:
    """List the rule ids, their severity and what each checks."""
    if args.format == "json":
        out(json.dumps([{"rule": r.value, "severity": r.severity, "title": r.title} for r in Rule]))
        return exits.OK
    for line in table(("rule", "severity", "what it checks"),
                       [(r.value, r.severity, r.title) for r in Rule], Style.for_stdout()):
        out(line)
    out("")
    out("Errors (E…) make Adrop answer !invalid; warnings (W…) are accepted but probably a data bug.")
    out("--strict turns W101 (an event outside the catalog) into an error.")
    return exits.OK


def print_report(report: DatasetReport, source: str, *, limit: int, strict: bool, style: Style) -> None:
    s = report.summary()
    n = report.violations.height
    out(f"{style.bold(source)}: {plural(s['rows'], 'row')} checked in {report.elapsed_s:.2f} s"
         + (" (strict: events outside the catalog are errors)" if strict else ""))
    width = len(f"{s['rows']:,}")
    out(f"  valid    {s['valid']:>{width},}")
    out(f"  invalid  {s['invalid']:>{width},}   rows Adrop would reject with !invalid")
    out(f"  warned   {s['warned']:>{width},}   valid rows with a warning worth a look")
    if n == 0:
        out("")
        out(style.green("Every row is valid and nothing looks off."))
        return

    out("")
    out(style.bold("By rule"))
    by_rule = report.by_rule().select("rule", "severity", "violations", "rows", "title").rows()
    for line in table(("rule", "severity", "violations", "rows", "what it checks"), by_rule, style,
                       right={2, 3}, indent="  "):
        out(line)

    if limit:
        out("")
        out(style.bold(f"First {min(limit, n):,} of {plural(n, 'violation')}" if n > limit else "Violations"))
        shown = [(r["row"], r["eventName"], r["rule"], r["severity"], r["field"],
                  clip(r["value"], VALUE_WIDTH), r["message"])
                 for r in report.violations.head(limit).iter_rows(named=True)]
        for line in table(("row", "eventName", "rule", "severity", "field", "value", "message"), shown, style,
                           right={0}, indent="  "):
            out(line)
    if n > limit:
        out(style.dim(f"… and {n - limit:,} more; use --format json for all"))

    out("")
    if report.invalid:
        out(style.red(f"{s['invalid']:,} of {plural(s['rows'], 'row')} would be rejected by Adrop. "
                       f"`{PROG} rules` explains each rule id."))
    else:
        out(style.green(f"Every row is valid; {s['warned']:,} carry warnings worth a look."))


