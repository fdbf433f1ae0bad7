"""`adrop-kit export jsonschema|openapi`: the contract as JSON Schema or OpenAPI (see `export.py`).

    adrop-kit export jsonschema [--plan FILE] [--event NAME] [--strict] [--out DIR|FILE.json]
    adrop-kit export openapi [--plan FILE] [--server-url URL] [--strict] [--out FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adrop_kit.cli import exits
from adrop_kit.cli.common import Fail, load_catalog, one_line, out


def add_parsers(sub: Any, *, fmt: dict, plan: dict) -> None:
    e = sub.add_parser("export", help="write the contract as JSON Schema or OpenAPI 3.1 (from the catalog)",
                       description="Generate JSON Schema (draft 2020-12) or an OpenAPI 3.1 document for POST /event "
                                   "from the catalog, so other tools (jsonschema, schemathesis, code generators) "
                                   "check events the way adrop-kit does. NaN/Infinity and warnings are not expressed.")
    kinds = e.add_subparsers(dest="kind", metavar="KIND", required=True)
    j = kinds.add_parser("jsonschema", help="JSON Schema: one document for any event, per-event schemas in $defs",
                         description="Print one JSON Schema document (draft 2020-12) for any event: eventName "
                                     "selects the event's schema (under $defs) through if/then, which jsonschema "
                                     "and ajv (Ajv2020) both run as is. With --event, the schema of that one event. "
                                     "--out DIR writes the document (adrop-event.schema.json) and one file per "
                                     "event (<event>.schema.json); --out FILE.json writes the document alone.")
    j.add_argument("--event", metavar="NAME", help="only the schema of this event")
    j.set_defaults(run=cmd_export)
    o = kinds.add_parser("openapi", help="OpenAPI 3.1 document for POST /event",
                         description="Print an OpenAPI 3.1 document: POST /event, the app key as an apiKey "
                                     "security scheme in the Authorization header, one schema per event.")
    o.add_argument("--server-url", metavar="URL", default="https://api-v2.adrop.io",
                   help="servers[0].url (default: https://api-v2.adrop.io)")
    o.set_defaults(run=cmd_export)
    for p in (j, o):
        p.add_argument("--plan", **plan)
        p.add_argument("--strict", action="store_true",
                       help="events outside the catalog are invalid (W101 and W110 become errors)")
        p.add_argument("--out", metavar="DIR" if p is j else "FILE", type=Path,
                       help=("a directory: the document and one file per event; or a FILE.json: the document "
                             "alone (default: stdout)") if p is j else "write to FILE instead of stdout")


def cmd_export(args: argparse.Namespace) -> int:
    from adrop_kit.errors import UnknownEvent
    from adrop_kit.spec.jsonschema import (
        dispatch_schema,
        event_schema,
        json_schemas,
        openapi,
        schema_file_name,
        write_json,
    )

    catalog = load_catalog(args.plan)
    doc: dict[str, Any]
    if args.kind == "openapi":
        doc = openapi(catalog, server_url=args.server_url, strict=args.strict)
    elif args.event is not None:
        try:
            doc = event_schema(args.event, catalog)
        except UnknownEvent as exc:
            raise Fail(str(exc)) from None
    else:
        doc = dispatch_schema(catalog, strict=args.strict)
    if args.out is None:
        out(write_json(doc).rstrip("\n"))
        return exits.OK
    files = {args.out: doc}
    if args.kind == "jsonschema" and args.event is None and args.out.suffix.lower() != ".json":  # a directory
        files = {args.out / DOCUMENT: doc, **{args.out / f"{schema_file_name(name)}.schema.json": schema
                                              for name, schema in json_schemas(catalog).items()}}
    try:
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(content, path)
    except OSError as exc:
        raise Fail(one_line(args.out, exc)) from None
    return exits.OK


DOCUMENT = "adrop-event.schema.json"
"""The one document's file name in `--out DIR`, beside `<event>.schema.json` for each event."""
