"""A mapping: how the rows of a foreign export become Adrop events, read from TOML a user edits.

`load_mapping(path)` / `parse_mapping(text)` check every key against the catalog and say, on one
line, where a mistake is (`mapping.toml:42: event #3 (from "add_to_cart"): items = "eachh": …`);
`default_mapping("ga4" | "segment")` is the default (`importers.defaults`), parsed by the same code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from adrop_kit.errors import PlanError
from adrop_kit.io.importers.defaults import DEFAULTS
from adrop_kit.io.importers.fixes import CASES, Fixes
from adrop_kit.spec.catalog import ITEMS, STANDARD, Catalog

ITEM_MODES = ("none", "all", "each", "with_quantity", "about")
UNMAPPED = ("skip", "keep")
SOURCES = tuple(DEFAULTS)
FIXES_ONLY = "adrop"
"""`source = "adrop"`: a file of fixes for data already in Adrop's shape (`validate --mapping`)."""
_TOP = {"source", "event_name", "time", "uid", "platform", "items_from", "unmapped", "placeholders", "ignore",
        "item", "event", "rename", "fix", "case"}
_RULE = {"from", "to", "when", "items", "params"}
_SOURCE_RE = re.compile(r"^(path\((?P<inner>[^()]+)\)|const:.*|[A-Za-z_$][\w$ -]*(\.[\w$ -]+)*)$", re.S)

Sources = tuple[str, ...]
"""Where a value comes from: dotted paths, `path(…)`, `const:…`; the first that holds a value wins."""


@dataclass(frozen=True)
class Rule:
    """One `[[event]]`: source event names → an Adrop event, with its parameters' sources."""

    sources: tuple[str, ...]
    to: str
    params: tuple[tuple[str, Sources], ...] = ()
    items: str = "none"
    when: tuple[tuple[str, frozenset[str]], ...] = ()


@dataclass(frozen=True)
class Mapping:
    """A parsed, checked mapping (see `importers.defaults` for what each key means)."""

    source: str
    event_name: Sources
    time: Sources
    uid: Sources
    platform: Sources
    items_from: Sources
    unmapped: str = "skip"
    placeholders: frozenset[str] = frozenset()
    ignore: tuple[str, ...] = ()
    item: tuple[tuple[str, Sources], ...] = ()
    rules: tuple[Rule, ...] = ()
    fixes: Fixes = Fixes()
    text: str = field(default="", repr=False, compare=False)
    by_name: dict[str, tuple[Rule, ...]] = field(default_factory=dict, repr=False, compare=False)
    _ignored: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    def ignored(self, name: str) -> bool:
        """Whether `ignore` covers the field `name` (itself or a name above it: `device` covers `device.x`)."""
        hit = self._ignored.get(name)
        if hit is None:
            parts = name.split(".")
            names = set(self.ignore)
            hit = self._ignored[name] = any(".".join(parts[:i]) in names for i in range(1, len(parts) + 1))
        return hit

    def __post_init__(self) -> None:
        index: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for name in rule.sources:
                index.setdefault(name, []).append(rule)
        self.by_name.update({k: tuple(v) for k, v in index.items()})


def default_mapping(source: str) -> Mapping:
    """The default mapping for `source` ("ga4" or "segment")."""
    if source not in DEFAULTS:
        raise ValueError(f"no default mapping for {source!r}; expected one of {', '.join(SOURCES)}")
    return parse_mapping(DEFAULTS[source], where=f"<default {source} mapping>")


def load_mapping(path: str | Path, *, catalog: Catalog = STANDARD, source: str | None = None) -> Mapping:
    """Read and check a mapping file; `PlanError` naming the line and key of a mistake."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{p}: cannot read the mapping: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PlanError(f"{p}: the mapping is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    mapping = parse_mapping(text, catalog=catalog, where=str(p))
    if source is not None and mapping.source != source:
        raise PlanError(f"{p}: source = {mapping.source!r}, but this is an import of {source}; "
                        f"write a {source} mapping with --write-mapping")
    return mapping


def parse_mapping(text: str, *, catalog: Catalog = STANDARD, where: str = "<mapping>") -> Mapping:
    """A mapping from its TOML text (see `load_mapping`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{where}: not valid TOML: {exc}") from None
    err = _Errors(text, where)
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        err.fail(unknown[0], f"unknown key {unknown[0]!r}; expected one of {', '.join(sorted(_TOP))}")
    source = raw.get("source")
    if source not in (*SOURCES, FIXES_ONLY):
        err.fail("source", f"source = {source!r}: expected one of "
                           f"{', '.join(repr(s) for s in (*SOURCES, FIXES_ONLY))}")
    fixes = _fixes(raw, err)
    if source == FIXES_ONLY:
        extra = sorted(set(raw) - {"source", "rename", "fix", "case"})
        if extra:
            err.fail(extra[0], f"{extra[0]}: a source = \"adrop\" file holds only [rename], [fix.COLUMN] and [case]")
        return Mapping(source=source, event_name=("eventName",), time=(), uid=(), platform=(), items_from=(),
                       fixes=fixes, text=text)
    unmapped = raw.get("unmapped", "skip")
    if unmapped not in UNMAPPED:
        err.fail("unmapped", f"unmapped = {unmapped!r}: expected \"skip\" or \"keep\"")
    item = _params(raw.get("item", {}), "item", err, allowed={p.name for p in catalog.item_params})
    rules = tuple(_rule(r, i, err, catalog) for i, r in enumerate(_list(raw.get("event", []), "event", err)))
    return Mapping(
        source=source, event_name=_sources(raw.get("event_name"), "event_name", err, required=True),
        time=_sources(raw.get("time", ()), "time", err), uid=_sources(raw.get("uid", ()), "uid", err),
        platform=_sources(raw.get("platform", ()), "platform", err),
        items_from=_sources(raw.get("items_from", ()), "items_from", err), unmapped=unmapped,
        placeholders=frozenset(_strings(raw.get("placeholders", []), "placeholders", err)),
        ignore=tuple(_strings(raw.get("ignore", []), "ignore", err)), item=item, rules=rules, fixes=fixes,
        text=text)


def _fixes(raw: dict[str, Any], err: _Errors) -> Fixes:
    def pairs(value: Any, key: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, MappingABC) or not all(isinstance(v, str) for v in value.values()):
            err.fail(key, f"[{key}] must be a table of text = text")
        return tuple(value.items())

    rename = pairs(raw.get("rename", {}), "rename")
    fix = raw.get("fix", {})
    if not isinstance(fix, MappingABC):
        err.fail("fix", "fix must be tables [fix.COLUMN] of text = text")
    values = tuple((column, pairs(v, f"fix.{column}")) for column, v in fix.items())
    case = raw.get("case", {})
    if not isinstance(case, MappingABC):
        err.fail("case", "case must be a table (column = \"lower\" or \"upper\")")
    for column, how in case.items():
        if how not in CASES:
            err.fail(column, f"case.{column} = {how!r}: expected \"lower\" or \"upper\"")
    return Fixes(rename, values, tuple(case.items()))


class _Errors:
    """Turns a mistake into one `PlanError` line naming the file, the line and the key."""

    def __init__(self, text: str, where: str):
        self.lines = text.splitlines()
        self.where = where

    def line_of(self, key: str, nth_rule: int | None = None) -> int | None:
        start = 0
        if nth_rule is not None:
            heads = [i for i, line in enumerate(self.lines) if line.strip().startswith("[[event]]")]
            if nth_rule >= len(heads):
                return None
            start = heads[nth_rule]
            end = heads[nth_rule + 1] if nth_rule + 1 < len(heads) else len(self.lines)
        else:
            end = len(self.lines)
        pattern = re.compile(rf"(^|[\s{{,\[])\"?{re.escape(key)}\"?\s*=|^\s*\[+{re.escape(key)}\]")
        for i in range(start, end):
            if pattern.search(self.lines[i]):
                return i + 1
        return start + 1 if nth_rule is not None else None

    def fail(self, key: str, message: str, nth_rule: int | None = None) -> None:
        line = self.line_of(key.rpartition(".")[2] or key, nth_rule)
        at = f"{self.where}:{line}" if line else self.where
        raise PlanError(f"{at}: {message}")


def _list(value: Any, key: str, err: _Errors) -> list[Any]:
    if not isinstance(value, list):
        err.fail(key, f"{key} must be a list" + (" of [[event]] tables" if key == "event" else ""))
    return value


def _strings(value: Any, key: str, err: _Errors, nth_rule: int | None = None) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        err.fail(key, f"{key} must be a string or a list of strings, not {value!r}", nth_rule)
    return value


def _sources(value: Any, key: str, err: _Errors, *, required: bool = False, nth_rule: int | None = None) -> Sources:
    got = _strings(value, key, err, nth_rule)
    if required and not got:
        err.fail(key, f"{key} needs a source", nth_rule)
    for s in got:
        if not _SOURCE_RE.match(s) or (s.startswith("path(") and not _SOURCE_RE.match(s[5:-1])):
            err.fail(key, f"{key} = {s!r}: not a source (a dotted path such as params.page_location, "
                          "path(SOURCE) or const:TEXT)", nth_rule)
    return tuple(got)


def _params(value: Any, key: str, err: _Errors, *, allowed: set[str] | frozenset[str],
            nth_rule: int | None = None, event: str = "") -> tuple[tuple[str, Sources], ...]:
    if not isinstance(value, MappingABC):
        err.fail(key, f"{key} must be a table (name = source)", nth_rule)
    out = []
    for name, src in value.items():
        if name not in allowed:
            what = f"{event} has no parameter" if event else "an item has no field"
            err.fail(name, f"{key}.{name}: {what} {name!r}; expected one of {', '.join(sorted(allowed))}", nth_rule)
        out.append((name, _sources(src, f"{key}.{name}", err, required=True, nth_rule=nth_rule)))
    return tuple(out)


def _rule(raw: Any, i: int, err: _Errors, catalog: Catalog) -> Rule:
    if not isinstance(raw, MappingABC):
        err.fail("event", f"event #{i + 1} must be a table", i)
    names = _strings(raw.get("from", []), "from", err, i)
    label = f"event #{i + 1} (from {names[0]!r})" if names else f"event #{i + 1}"
    unknown = sorted(set(raw) - _RULE)
    if unknown:
        err.fail(unknown[0], f"{label}: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(_RULE))}", i)
    if not names:
        err.fail("from", f"{label}: needs from = the source event name(s)", i)
    to = raw.get("to")
    if not isinstance(to, str) or to not in catalog:
        hint = catalog.suggest_event(to) if isinstance(to, str) else None
        err.fail("to", f"{label}: to = {to!r} is not an event of the catalog"
                       + (f" (did you mean {hint!r}?)" if hint else "") + "; a tracking plan (--plan) adds events", i)
    items = raw.get("items", "none")
    if items not in ITEM_MODES:
        err.fail("items", f"{label}: items = {items!r}: expected one of {', '.join(ITEM_MODES)}", i)
    spec = catalog[to]
    allowed = {p.name for p in spec.params} - {ITEMS}
    params = _params(raw.get("params", {}), "params", err, allowed=allowed, nth_rule=i, event=to)
    if items == "all" and not spec.has_items:
        err.fail("items", f"{label}: items = \"all\" fills an items list, which {to} does not carry", i)
    when = raw.get("when", {})
    if not isinstance(when, MappingABC):
        err.fail("when", f"{label}: when must be a table (source = [accepted values])", i)
    conds = tuple((k, frozenset(_strings(v, f"when.{k}", err, i))) for k, v in when.items())
    for k, _ in conds:
        _sources(k, f"when.{k}", err, nth_rule=i)
    return Rule(tuple(names), to, params, items, conds)


__all__ = ["FIXES_ONLY", "ITEM_MODES", "SOURCES", "Mapping", "Rule", "default_mapping", "load_mapping", "parse_mapping",
           "variant"]


def variant(mapping: Mapping, *, page_id: Sources | None = None, items: dict[str, str] | None = None,
            unmapped: str | None = None) -> Mapping:
    """`mapping` with a few choices changed (what the notebook's widget tries): the sources of
    `page_view`'s `page_id`, the items mode of events (`{"add_to_cart": "each"}`), `unmapped`."""
    if unmapped is not None and unmapped not in UNMAPPED:
        raise ValueError(f"unmapped must be \"skip\" or \"keep\", not {unmapped!r}")
    for mode in (items or {}).values():
        if mode not in ITEM_MODES:
            raise ValueError(f"items mode {mode!r}: expected one of {', '.join(ITEM_MODES)}")
    rules = []
    for rule in mapping.rules:
        params = rule.params
        if page_id is not None and rule.to == "page_view":
            params = tuple((k, tuple(page_id) if k == "page_id" else v) for k, v in params)
        mode = (items or {}).get(rule.to, rule.items)
        rules.append(replace(rule, params=params, items=mode))
    return replace(mapping, rules=tuple(rules), unmapped=unmapped or mapping.unmapped, by_name={}, _ignored={})
