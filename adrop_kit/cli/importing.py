"""`adrop-kit import ga4|segment PATH… --out FILE`: a foreign export to Adrop events, with a mapping report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adrop_kit.cli import exits
from adrop_kit.cli.common import PROG, Fail, Style, load_catalog, one_line, out, plural, table
from adrop_kit.errors import AdropError, PlanError

if TYPE_CHECKING:
    from adrop_kit.validate.importers import MappingReport

OUT_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".csv")
KINDS = {"ga4": "a GA4 / Firebase BigQuery export (newline-delimited JSON or Parquet)",
         "segment": "Segment / RudderStack calls (JSONL or JSON arrays)"}
SHOWN = 15


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    imp = sub.add_parser("import", help="turn a GA4 / Firebase or Segment export into Adrop events",
                         description="Map the rows of a GA4 / Firebase BigQuery export or of Segment / RudderStack "
                                     "calls to Adrop events, through a mapping you can edit, and report what "
                                     "was mapped, skipped, lost and invalid.")
    kinds = imp.add_subparsers(dest="kind", metavar="SOURCE", required=True)
    for kind, what in KINDS.items():
        k = kinds.add_parser(kind, help=f"import {what}", description=f"Import {what} as Adrop events.")
        k.add_argument("path", metavar="PATH", nargs="*",
                       help="the export: files, directories of daily parts (read recursively), quoted globs, "
                            ".gz/.zst")
        k.add_argument("--out", metavar="FILE", type=Path,
                       help="where to write the events (.parquet, .jsonl or .csv), with the metadata columns ts, "
                            "_source and _row (never sent)")
        k.add_argument("--mapping", metavar="FILE", type=Path, help="a mapping file (TOML) to use instead of the "
                                                                    "default; start from --write-mapping")
        k.add_argument("--write-mapping", metavar="FILE", type=Path,
                       help="write the default mapping (commented TOML) to FILE to edit, and stop")
        k.add_argument("--plan", **plan)
        k.add_argument("--format", **fmt)
        k.set_defaults(run=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    """Import an export; exit 1 when some events written are invalid."""
    from adrop_kit.validate.importers import run, write_mapping  # loads polars

    if args.write_mapping is not None:
        try:
            write_mapping(args.kind, args.write_mapping)
        except OSError as exc:
            raise Fail(one_line(args.write_mapping, exc)) from None
        out(f"Wrote the default {args.kind} mapping to {args.write_mapping}; edit it, then: "
            f"{PROG} import {args.kind} PATH --mapping {args.write_mapping} --out events.parquet")
        return exits.OK
    if not args.path:
        raise Fail(f"import {args.kind}: give the export's PATH (files, a directory, a glob)")
    if args.out is None:
        raise Fail(f"import {args.kind}: --out FILE is required (.parquet, .jsonl or .csv)")
    if args.out.suffix.lower() not in OUT_SUFFIXES:
        raise Fail(f"{args.out}: events are written as .parquet, .jsonl or .csv (the format follows the suffix)")
    catalog = load_catalog(args.plan)
    if args.mapping is not None and not args.mapping.exists():
        raise Fail(f"{args.mapping}: no such mapping file")
    paths = args.path[0] if len(args.path) == 1 else args.path
    try:
        _, report = run(args.kind, paths, args.mapping, out=args.out, catalog=catalog)
    except PlanError as exc:  # names the mapping file and line
        raise Fail(" ".join(str(exc).split())) from None
    except (AdropError, OSError, ValueError) as exc:
        raise Fail(one_line(" ".join(args.path), exc)) from None
    if args.format == "json":
        out(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print_mapping_report(report, Style.for_stdout())
    return exits.INVALID if report.invalid else exits.OK


def print_mapping_report(report: MappingReport, style: Style) -> None:
    out(f"{style.bold(report.source)}: {plural(report.rows, 'row')} read in {report.elapsed_s:.2f} s "
        f"({report.kind})")
    width = len(f"{max(report.rows, report.events):,}")
    out(f"  mapped   {report.mapped_rows:>{width},}   rows that became at least one event")
    out(f"  skipped  {sum(report.skipped.values()):>{width},}   rows no rule maps")
    out(f"  events   {report.events:>{width},}   written to {report.out}")
    out(f"  invalid  {report.invalid:>{width},}   events `{PROG} validate` finds invalid")
    sections = (("Events written", "event", report.by_event), ("Skipped rows, by source event", "source event",
                                                                 report.skipped),
                ("Lost: fields that held a value no Adrop field carries", "field", report.lost),
                ("Invalid events, by rule", "rule", report.invalid_by_rule),
                ("Fixed by the mapping", "rule", report.fixed))
    for title, head, counts in sections:
        if not counts:
            continue
        out("")
        out(style.bold(title))
        rows = list(counts.items())
        for line in table((head, "count"), [(k, f"{v:,}") for k, v in rows[:SHOWN]], style, right={1}, indent="  "):
            out(line)
        if len(rows) > SHOWN:
            out(style.dim(f"  … and {len(rows) - SHOWN} more; --format json lists all"))
    out("")
    if report.invalid:
        out(style.red(f"{report.invalid:,} of {plural(report.events, 'event')} would be rejected; "
                      f"`{PROG} validate {report.out}` names each row and rule."))
    else:
        out(style.green(f"{plural(report.events, 'event')} written, all valid. Next: {PROG} send {report.out} "
                        "--dry-run"))


__all__ = ["add_parsers", "cmd_import", "print_mapping_report"]
