"""`adrop-kit validate`, `catalog`, `sample` and `rules`: the dataset half of the CLI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adrop_kit.cli import exits
from adrop_kit.cli.argtypes import count, fraction
from adrop_kit.cli.common import (
    PROG,
    Fail,
    Style,
    add_delimiter_argument,
    add_input_arguments,
    add_mapping_argument,
    add_meta_columns_argument,
    checked_mapping,
    clip,
    input_of,
    load_catalog,
    meta_columns,
    one_line,
    or_,
    out,
    params,
    plural,
    print_not_read,
    table,
)
from adrop_kit.errors import AdropError
from adrop_kit.spec.catalog import PLATFORMS
from adrop_kit.spec.rules import Rule

if TYPE_CHECKING:
    from adrop_kit.validate.report import DatasetReport

DEFAULT_LIMIT = 20
DEFAULT_BATCH_MB = 12  # io.stream.DEFAULT_BATCH_BYTES, in MiB
VALUE_WIDTH = 28
SAMPLE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".parquet")


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    v = sub.add_parser("validate", help="check a dataset (.csv, .tsv, .jsonl, .ndjson, .json, .parquet)",
                       description="Check every row of a dataset against the contract and report what breaks. "
                                   "The input is read in batches: any size fits in memory.")
    v.add_argument("path", metavar="PATH", nargs="+",
                   help="the dataset: a file (.csv, .tsv, .jsonl, .ndjson, .json, .parquet; .gz or .zst for text), "
                        "a directory of part files (read recursively), a quoted glob, several of these, "
                        "or - for JSONL on standard input")
    v.add_argument("--violations-out", metavar="FILE", type=Path,
                   help="write every violation to FILE (.parquet, .jsonl or .csv) as it is found, instead of "
                        "holding them all; the report lists the first")
    v.add_argument("--valid-out", metavar="FILE", type=Path,
                   help="write the valid rows to FILE (.parquet, .jsonl or .csv) as the batches pass: your columns "
                        "and values as they came in")
    v.add_argument("--invalid-out", metavar="FILE", type=Path,
                   help="write the invalid rows to FILE (.parquet, .jsonl or .csv) as the batches pass: row (and "
                        "source), your columns and values as they came in, and raw (the text of a row that is "
                        "not an event)")
    v.add_argument("--batch-mb", metavar="MB", type=count, default=DEFAULT_BATCH_MB,
                   help=f"megabytes of text (or 10,000s of Parquet rows) per batch (default: {DEFAULT_BATCH_MB})")
    v.add_argument("--plan", **plan)
    v.add_argument("--strict", action="store_true", help="events outside the catalog are errors (W101, W110)")
    add_meta_columns_argument(v)
    add_delimiter_argument(v)
    v.add_argument("--max-invalid-rate", metavar="R", type=fraction, default=None,
                   help="for CI: exit 1 only when more than this share of rows (0 to 1) is invalid, else 0")
    add_mapping_argument(v)
    add_input_arguments(v)
    v.add_argument("--format", **fmt)
    v.add_argument("--limit", metavar="N", type=count, default=DEFAULT_LIMIT,
                   help=f"violations listed in the table (default: {DEFAULT_LIMIT}; json always lists all)")
    v.add_argument("--engine", choices=("local", "pandera", "spark"), default="local",
                   help="local (default): this process; pandera: this process, each batch judged by the pandera "
                        "models (adrop_kit.validate.schemas), the same report; spark: on a Spark cluster "
                        "(pip install 'adrop-kit[spark]'; PATH may be a directory, a glob or an s3a:// URI)")
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
                   help=f"where to write ({or_(SAMPLE_SUFFIXES)}; .gz or .zst after a text format compresses); "
                        "with --parts, a directory")
    s.add_argument("--parts", metavar="K", type=count,
                   help="write K part files part-00000… into the directory --out, as a Spark job writes an export")
    s.add_argument("--as", dest="part_type", metavar="TYPE", default="jsonl",
                   help="with --parts: the parts' type, e.g. jsonl, csv.gz, jsonl.zst, parquet (default: jsonl)")
    s.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default: 0)")
    s.add_argument("--error-rate", metavar="F", type=fraction, default=0.03,
                   help="share of rows with a deliberate error, 0..1 (default: 0.03)")
    s.set_defaults(run=cmd_sample)

    r = sub.add_parser("rules", help="list the rule ids a report can name",
                       description="List every rule of the contract: id, severity and what it checks.")
    r.add_argument("--format", **fmt)
    r.set_defaults(run=cmd_rules)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a dataset (streamed batch by batch); exit 1 when any row is invalid."""
    catalog = load_catalog(args.plan)
    paths: list[str] = args.path
    if args.engine == "spark":  # pyspark and a session only when asked
        from adrop_kit.cli.spark import validate_on_spark

        report = validate_on_spark(args, catalog)
    else:
        from adrop_kit import validate_events  # loads polars and the dataset validator

        if not args.batch_mb:
            raise Fail("--batch-mb must be at least 1")
        data = input_of(args)
        try:
            report = validate_events(data, catalog=catalog, strict=args.strict,
                                     extra_columns=meta_columns(args), delimiter=args.delimiter,
                                     encoding=args.encoding, mapping=checked_mapping(args, catalog),
                                     stream=True, violations_out=args.violations_out,
                                     engine="pandera" if args.engine == "pandera" else "polars",
                                     valid_out=args.valid_out, invalid_out=args.invalid_out,
                                     batch_bytes=args.batch_mb << 20, batch_rows=args.batch_mb * 10_000)
        except (AdropError, OSError, ValueError) as exc:  # DataReadError is both
            raise Fail(one_line(" ".join(paths), exc)) from None
    if args.html is not None:
        from adrop_kit.explore.report_page import write_report_page

        try:
            write_report_page(report, args.html)
        except OSError as exc:
            raise Fail(one_line(args.html, exc)) from None
    if args.format == "json":  # in pieces: millions of violations are not built as one string
        for piece in report.iter_json():
            sys.stdout.write(piece)
        out("")
    else:
        print_report(report, report.source, limit=args.limit, strict=args.strict, style=Style.for_stdout())
        if args.html is not None:
            out(f"The report as a page: {args.html}")
    if args.max_invalid_rate is not None:
        share = report.invalid / report.rows if report.rows else 0.0
        verdict = "more than" if share > args.max_invalid_rate else "within"
        print(f"{report.invalid:,} of {report.rows:,} rows invalid ({share:.2%}): {verdict} --max-invalid-rate "
              f"{args.max_invalid_rate:g}", file=sys.stderr)
        return exits.INVALID if share > args.max_invalid_rate else exits.OK
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
    """Write a synthetic dataset (one file, or K part files) for demos and benchmarks."""
    dest: Path = args.out
    if args.parts is not None:
        return _sample_parts(args, dest)
    name = dest.name.lower()
    for comp in (".gz", ".zst", ".zstd"):
        name = name.removesuffix(comp)
    if Path(name).suffix not in SAMPLE_SUFFIXES or (name != dest.name.lower() and name.endswith(".parquet")):
        kind = f"unknown file type {dest.suffix!r}" if dest.suffix else "no file type suffix"
        raise Fail(f"{dest}: {kind}; the format follows the suffix: {or_(SAMPLE_SUFFIXES)} "
                   "(.gz or .zst after a text format)")
    from adrop_kit.explore.synth import write_sample  # loads polars

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_sample(dest, args.n, seed=args.seed, error_rate=args.error_rate)
    except (AdropError, OSError, ValueError) as exc:
        raise Fail(one_line(dest, exc)) from None
    out(f"Wrote {plural(args.n, 'event')} to {dest} (seed {args.seed}, about {args.error_rate:.0%} with a "
        f"deliberate error). Check them with: {PROG} validate {dest}")
    return exits.OK


def _sample_parts(args: argparse.Namespace, dest: Path) -> int:
    if not args.parts:
        raise Fail("--parts must be at least 1")
    if dest.exists() and not dest.is_dir():
        raise Fail(f"{dest}: not a directory; with --parts, --out names the directory to write the parts into")
    from adrop_kit.explore.synth import write_sample_parts  # loads polars

    suffix = "." + args.part_type.lstrip(".")
    try:
        written = write_sample_parts(dest, args.n, args.parts, suffix=suffix, seed=args.seed,
                                     error_rate=args.error_rate)
    except (AdropError, OSError, ValueError) as exc:
        raise Fail(one_line(dest, exc)) from None
    out(f"Wrote {plural(args.n, 'event')} in {plural(len(written), 'part file')} ({written[0].name} …) to {dest} "
        f"(seed {args.seed}, about {args.error_rate:.0%} with a deliberate error). "
        f"Check them with: {PROG} validate {dest}")
    return exits.OK


def cmd_rules(args: argparse.Namespace) -> int:
    """List the rule ids, their severity and what each checks."""
    if args.format == "json":
        out(json.dumps([{"rule": r.value, "severity": r.severity, "title": r.title, "fix": r.fix} for r in Rule]))
        return exits.OK
    for line in table(("rule", "severity", "what it checks"),
                       [(r.value, r.severity, r.title) for r in Rule], Style.for_stdout()):
        out(line)
    out("")
    out("Errors (E…) make Adrop answer !invalid; warnings (W…) are accepted but probably a data bug.")
    out("--strict turns W101 and W110 (an event outside the catalog, near miss or not) into errors.")
    return exits.OK


def print_report(report: DatasetReport, source: str, *, limit: int, strict: bool, style: Style) -> None:
    s = report.summary()
    n = report.violation_count
    out(f"{style.bold(source)}: {plural(s['rows'], 'row')} checked in {report.elapsed_s:.2f} s"
         + (f" from {plural(len(report.sources), 'file')}" if report.multi else "")
         + (" (strict: events outside the catalog are errors)" if strict else ""))
    if report.skipped:
        shown_skips = ", ".join(report.skipped[:5]) + (" …" if len(report.skipped) > 5 else "")
        out(style.dim(f"  skipped {plural(len(report.skipped), 'file')} beside the data: {shown_skips}"))
    print_not_read(report, style)
    width = len(f"{s['rows']:,}")
    out(f"  valid    {s['valid']:>{width},}")
    out(f"  invalid  {s['invalid']:>{width},}   rows Adrop would reject with !invalid")
    out(f"  warned   {s['warned']:>{width},}   valid rows with a warning worth a look")
    for note in report.notes:
        out(style.yellow(f"Note: {note}"))
    for note in report.event_notes():
        out(style.yellow(f"  {note}"))
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
        head = report.violations.head(limit)
        lines = head.get_column("line").null_count() < head.height  # text files only
        cols = tuple(c for c in report.shown_columns if c != "line" or lines)
        shown = [tuple(clip(r[c], VALUE_WIDTH) if c == "value" else r[c] for c in cols)
                 for r in head.iter_rows(named=True)]
        right = {cols.index("row"), *((cols.index("line"),) if lines else ())}
        for line in table(cols, shown, style, right=right, indent="  "):
            out(line)
    if n > limit:
        where = f"all are in {report.violations_out}" if report.violations_out else "use --format json for all"
        out(style.dim(f"… and {n - limit:,} more; {where}"))
    elif report.violations_out:
        out(style.dim(f"Written to {report.violations_out}"))

    out("")
    if report.invalid:
        out(style.red(f"{s['invalid']:,} of {plural(s['rows'], 'row')} would be rejected by Adrop. "
                       f"`{PROG} rules` explains each rule id."))
    else:
        out(style.green(f"Every row is valid; {s['warned']:,} carry warnings worth a look."))
    for what, path in (("valid", report.valid_out), ("invalid", report.invalid_out)):
        if path is not None:
            out(style.dim(f"The {what} rows ({getattr(report, what):,}) are in {path}"))


