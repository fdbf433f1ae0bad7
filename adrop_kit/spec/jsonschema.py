"""JSON Schema (draft 2020-12) and OpenAPI 3.1 documents generated from the catalog.

Everything here is derived from a `Catalog` (standard, or extended by a tracking plan):
no parameter list and no rule is written down twice. Each schema node names the rules its
keywords enforce in its `$comment` ("rules: E005, E006"; `rules_of` reads it back), so a schema
error can be looked up in SPEC.md. Only standard keywords: ajv's strict mode, which refuses an
unknown keyword such as `x-…`, compiles the documents as they are (`Ajv2020`).

What JSON Schema expresses exactly: the error rules E001-E008 (E003's 64 code points included),
for any payload JSON can carry. What it does not: NaN and Infinity are not JSON, so a schema
validator never sees them (a Python `float("nan")` passes `"type": "number"`; `validate_event`
rejects it); the limits on the body (depth, keys, 64 KiB); and warnings (W1xx) are not expressed
at all: a payload that only draws warnings is valid, as on the server. In strict mode the event
names are an `enum`: W101 and W110 names are invalid there.

    from adrop_kit.spec.jsonschema import dispatch_schema, json_schemas, openapi
    import jsonschema
    jsonschema.Draft202012Validator(dispatch_schema()).is_valid({"uid": "u1", "eventName": "app_open"})
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from adrop_kit.spec.catalog import PLATFORMS, Catalog, EventSpec, ParamSpec, resolve
from adrop_kit.spec.rules import MAX_EVENT_NAME, Rule

__all__ = ["DIALECT", "dispatch_schema", "event_schema", "json_schemas", "openapi", "rules_of", "schema_file_name",
           "write_json"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "urn:adrop-kit:schema:"  # names the schemas ($id): a URN, so no tool tries to fetch it
RULES = "$comment"
"""The keyword whose text names the rules a node enforces ("rules: E002"; `rules_of`)."""
_RULES_TEXT = re.compile(r"rules: ([EW][0-9]{3}(?:, [EW][0-9]{3})*)")
_NON_JSON = ("Not expressed (validate_event checks them): NaN and Infinity, which JSON text cannot carry "
             "(E006, E001); text that is not valid Unicode (E001); the limits on the body sent (64 levels "
             "deep, 1,000 keys in one object, 64 KiB: E001); warnings W101-W110 (a payload that only draws "
             "warnings is valid, as on the server).")
_JSON_TYPES = {"string": "string", "number": "number", "integer": "integer", "boolean": "boolean", "items": "array"}
_KEY = re.compile(r"[A-Za-z0-9._-]+")  # what OpenAPI allows as a components/schemas key


def _char_class_of_whitespace() -> str:
    """A regex class matching one character that `str.strip()` keeps (E002: uid not blank).

    Built from `str.isspace` with literal characters, so Python, ECMA-262 and Rust regex engines
    agree (their `\\S` do not: ECMA counts U+FEFF as a blank, Python counts U+001C..U+001F).
    """
    blanks = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    runs: list[list[int]] = []
    for c in blanks:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return "[^" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in runs) + "]"


NOT_BLANK = _char_class_of_whitespace()
"""The `pattern` of `uid`: at least one character that is not whitespace."""


def _rules(*rules: Rule, more: str = "") -> dict[str, str]:
    return {RULES: f"rules: {', '.join(r.value for r in rules)}" + (f". {more}" if more else "")}


def rules_of(node: dict[str, Any]) -> list[str]:
    """The rule ids a schema node's `$comment` names (what its keywords enforce), [] for none."""
    m = _RULES_TEXT.match(node.get(RULES, "")) if isinstance(node.get(RULES), str) else None
    return m[1].split(", ") if m else []


def _value(p: ParamSpec, rules: tuple[Rule, ...], item: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema of one parameter value; null counts as absent, so an optional value may be null."""
    jtype = _JSON_TYPES[p.type]
    s: dict[str, Any] = {"type": jtype if p.required else [jtype, "null"]}
    if p.description:
        s["description"] = p.description
    if p.type == "items":
        s.update({"minItems": 1, "items": item})
    elif p.required and p.type == "string":
        s["minLength"] = 1
    return {**s, **_rules(*rules)}


def _item(catalog: Catalog) -> dict[str, Any]:
    """One element of `items` (E008)."""
    return {"type": "object", "required": [p.name for p in catalog.item_params if p.required],
            "properties": {p.name: _value(p, (Rule.E008,)) for p in catalog.item_params},
            "additionalProperties": True, **_rules(Rule.E008)}


def _envelope(name: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "uid": {"type": "string", "pattern": NOT_BLANK, "description": "the user's id (hashed by the server)",
                **_rules(Rule.E002)},
        "eventName": {**name, **_rules(Rule.E003)},
        "platform": {"enum": [*PLATFORMS, None], **_rules(Rule.E004)},
    }


def event_schema(event: EventSpec | str, catalog: Catalog | str | Path | None = None) -> dict[str, Any]:
    """The JSON Schema of one event (a name or an `EventSpec`): envelope and parameters, extra keys allowed (W102).

    An unknown name raises `UnknownEvent`.
    """
    cat = resolve(catalog)
    spec = cat[event] if isinstance(event, str) else event
    item = _item(cat) if spec.has_items else None
    props = _envelope({"const": spec.name})
    for p in spec.params:
        rules = (Rule.E007,) if p.type == "items" else (Rule.E005, Rule.E006) if p.required else (Rule.E006,)
        props[p.name] = _value(p, rules, item)
    return {
        "$schema": DIALECT,
        "$id": f"{SCHEMA_BASE}event:{_key(spec.name)}",
        "title": spec.name,
        "description": spec.description or f"the custom event {spec.name}",
        "type": "object",
        "required": ["uid", "eventName", *(p.name for p in spec.required)],
        "properties": props,
        "additionalProperties": True,
        **_rules(Rule.E001, more=f"group: {spec.group}. {_NON_JSON}"),
    }


def json_schemas(catalog: Catalog | str | Path | None = None) -> dict[str, dict[str, Any]]:
    """One JSON Schema per event of the catalog, by event name."""
    cat = resolve(catalog)
    return {spec.name: event_schema(spec, cat) for spec in cat}


def _dispatch(cat: Catalog, ref: str, *, strict: bool) -> dict[str, Any]:
    """Any event: the envelope, then the schema its `eventName` selects (`ref` + key), if any."""
    names = list(cat.names)
    name: dict[str, Any] = ({"enum": names} if strict else
                            {"type": "string", "minLength": 1, "maxLength": MAX_EVENT_NAME})  # code points
    return {  # W101 is a warning: a name outside the catalog selects no schema, its envelope is all
        "type": "object",
        "required": ["uid", "eventName"],
        "properties": _envelope(name),
        "additionalProperties": True,
        "allOf": [{"if": {"properties": {"eventName": {"const": n}}, "required": ["eventName"]},
                   "then": {"$ref": ref + _key(n)}} for n in names],
        **_rules(Rule.E001),
    }


def _embedded(schema: dict[str, Any]) -> dict[str, Any]:
    """A per-event schema placed inside another document: no `$schema`/`$id` of its own."""
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def dispatch_schema(catalog: Catalog | str | Path | None = None, *, strict: bool = False) -> dict[str, Any]:
    """One JSON Schema for any event: `eventName` selects the event's schema (in `$defs`).

    Names outside the catalog are checked by the envelope only (W101 is a warning), unless `strict`.
    """
    cat = resolve(catalog)
    return {
        "$schema": DIALECT,
        "$id": f"{SCHEMA_BASE}event",
        "title": "Adrop event",
        "description": f"One event for POST /event (catalog: {cat.source}).",
        **_dispatch(cat, "#/$defs/", strict=strict),
        **_rules(Rule.E001, more=_NON_JSON),
        "$defs": {_key(n): _embedded(s) for n, s in json_schemas(cat).items()},
    }


def _message(text: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"type": "object", "required": ["message"], "properties": {"message": {"const": text}}},
        "example": {"message": text}}}}


def openapi(catalog: Catalog | str | Path | None = None, *, server_url: str = "https://api-v2.adrop.io",
            strict: bool = False) -> dict[str, Any]:
    """An OpenAPI 3.1 document for `POST /event`, its body schema generated from the catalog.

    Status codes other than the messages `ok` and `!invalid` are the local server's (SPEC.md); the
    upstream page documents messages only, so a client classifies a reply by its `message` too.
    """
    from adrop_kit.spec.version import __version__

    cat = resolve(catalog)
    components = {f"Event_{_key(n)}": _embedded(s) for n, s in json_schemas(cat).items()}
    components["Event"] = {"title": "Adrop event", "description": "Any event; eventName selects its schema.",
                           **_dispatch(cat, "#/components/schemas/Event_", strict=strict)}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": DIALECT,
        "info": {"title": "Adrop event API", "version": __version__,
                 "description": f"Generated by adrop_kit {__version__} from the catalog ({cat.source}). "
                                + _NON_JSON},
        "servers": [{"url": server_url}],
        "security": [{"appKey": []}],
        "paths": {"/event": {"post": {
            "operationId": "sendEvent",
            "summary": "Send one event",
            "description": "One JSON object, one event. The server stores uid as its SHA-256.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Event"}}}},
            "responses": {
                "200": _message("ok", "accepted"),
                "400": _message("!invalid", "the event breaks an error rule (E001-E008; W101 and W110 in strict mode)"),
                "401": _message("!unauthorized", "Authorization is missing or not an accepted app key"),
                "413": _message("!too_large", "the body is over 64 KiB"),
                "415": _message("!unsupported_media_type", "Content-Type is not application/json"),
            },
        }}},
        "components": {
            "securitySchemes": {"appKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                                           "description": "the app key, sent as is (no scheme prefix)"}},
            "schemas": components,
        },
    }


def _key(name: str) -> str:
    """A usable `$defs`/components key for an event name (plan names may hold any character)."""
    if _KEY.fullmatch(name):
        return name
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def schema_file_name(name: str) -> str:
    """A file name (no suffix) for an event's schema: the event name when it is a safe one, else the
    `$defs` key (`quiz_answered_v2-1a2b3c4d`); never a path, never a hidden file."""
    key = _key(name)
    return key if not key.startswith(".") else "_" + key


def write_json(obj: Any, path: str | Path | None = None) -> str:
    """`obj` as indented JSON text (non-ASCII escaped, so invisible blanks stay visible); written to `path` if given."""
    text = json.dumps(obj, indent=2, ensure_ascii=True) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
