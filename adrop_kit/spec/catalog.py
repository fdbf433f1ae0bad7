"""The event catalog: the single source of truth for every rule that names a parameter.

The 13 standard events of Adrop's public page live here as data (`STANDARD_EVENTS`).
A team's tracking plan (TOML or JSON) adds custom events, or new optional/required
parameters on standard ones, on top (`Catalog.from_file`).
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from adrop_kit.errors import MetaColumnError, PlanError, UnknownEvent
from adrop_kit.spec.near import near_miss
from adrop_kit.spec.rules import MAX_EVENT_NAME

ParamType = Literal["string", "number", "integer", "boolean", "items"]
PARAM_TYPES: tuple[str, ...] = ("string", "number", "integer", "boolean", "items")

PLATFORMS: tuple[str, ...] = ("web", "android", "ios")
"""The only values `platform` may take (E004)."""

ENVELOPE: tuple[str, ...] = ("uid", "eventName", "platform")
"""Keys every event may carry, whatever its name."""

ITEMS = "items"
SUGGEST_CUTOFF = 0.8
"""How alike (difflib's ratio, in lower case) a name must be to a catalog name to be suggested."""


@lru_cache(maxsize=1 << 16)
def close_match(name: str, candidates: tuple[str, ...]) -> str | None:
    """The candidate a near-miss `name` most likely meant: one equal to it but for case, else the
    closest in lower case (difflib, ratio ≥ `SUGGEST_CUTOFF`); None when `name` is a candidate
    or nothing is close. Cached: a dataset asks once per distinct name."""
    if not name or name in candidates:
        return None
    low = name.lower()
    lowered: dict[str, str] = {}
    for c in candidates:
        lowered.setdefault(c.lower(), c)
    if low in lowered:
        return lowered[low]
    hits = difflib.get_close_matches(low, list(lowered), n=1, cutoff=SUGGEST_CUTOFF)
    return lowered[hits[0]] if hits else None



@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an event (or of an item): its name, JSON type and whether it is required."""

    name: str
    type: ParamType = "string"
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class EventSpec:
    """One event of the catalog."""

    name: str
    group: str
    description: str
    params: tuple[ParamSpec, ...] = ()
    custom: bool = False

    @cached_property
    def param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)

    @cached_property
    def key_names(self) -> tuple[str, ...]:
        """The keys this event may carry, in order: the envelope, then its parameters."""
        return (*ENVELOPE, *(p.name for p in self.params))

    @cached_property
    def allowed_keys(self) -> frozenset[str]:
        """Top-level keys this event may carry (the envelope plus its parameters)."""
        return frozenset(ENVELOPE) | self.param_names

    @property
    def required(self) -> tuple[ParamSpec, ...]:
        return tuple(p for p in self.params if p.required)

    @property
    def has_items(self) -> bool:
        return ITEMS in self.param_names

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


def _p(name: str, type: ParamType = "string", required: bool = False) -> ParamSpec:
    return ParamSpec(name, type, required)


_ITEM_DETAILS = (_p("item_name"), _p("item_category"), _p("brand"), _p("price", "number"))
_FORM = (_p("form_id", required=True), _p("form_name"), _p("form_type"), _p("form_destination"))

STANDARD_EVENTS: tuple[EventSpec, ...] = (
    EventSpec("app_open", "common", "App opened"),
    EventSpec("sign_up", "common", "User signed up", (_p("method", required=True),)),
    EventSpec("push_clicks", "common", "Push notification clicked", (_p("campaign_id", required=True),)),
    EventSpec("page_view", "common", "Page viewed",
              (_p("page_id", required=True), _p("page_category"), _p("page_url"))),
    EventSpec("click", "common", "Element clicked",
              (_p("element_id", required=True), _p("element_type"), _p("target_url"))),
    EventSpec("view_item", "commerce", "Viewed item", (_p("item_id", required=True), *_ITEM_DETAILS)),
    EventSpec("add_to_wishlist", "commerce", "Added to wishlist",
              (_p("item_id", required=True), *_ITEM_DETAILS)),
    EventSpec("add_to_cart", "commerce", "Added to cart",
              (_p("item_id", required=True), _p("item_name"), _p("item_category"), _p("brand"),
               _p("price", "number", required=True), _p("quantity", "integer", required=True),
               _p("value", "number"), _p("currency"))),
    EventSpec("begin_checkout", "commerce", "Began checkout",
              (_p("currency"), _p(ITEMS, "items", required=True))),
    EventSpec("purchase", "commerce", "Purchase completed",
              (_p("tx_id", required=True), _p("currency"), _p(ITEMS, "items", required=True))),
    EventSpec("view_content", "content", "Viewed content",
              (_p("content_id", required=True), _p("content_name"), _p("content_type"))),
    EventSpec("begin_lead_form", "lead", "Began lead form", _FORM),
    EventSpec("generate_lead", "lead", "Lead generated",
              (*_FORM, _p("value", "number"), _p("currency"))),
)

ITEM_PARAMS: tuple[ParamSpec, ...] = (
    _p("item_id", required=True), *_ITEM_DETAILS, _p("quantity", "integer"),
)
"""Parameters of one element of `items` (E008)."""


@dataclass(frozen=True)
class Catalog:
    """Events by name, plus the item parameters. Immutable; `extend` returns a new one."""

    events: Mapping[str, EventSpec]
    item_params: tuple[ParamSpec, ...] = ITEM_PARAMS
    source: str = "standard"
    _types: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        types: dict[str, str] = {}
        for ev in self.events.values():
            for p in ev.params:
                seen = types.setdefault(p.name, p.type)
                if seen != p.type:
                    raise PlanError(
                        f"parameter {p.name!r} is {seen!r} in one event and {p.type!r} in "
                        f"{ev.name!r}: a parameter name must keep one type across the catalog"
                    )
        object.__setattr__(self, "_types", types)

    # -- lookup -----------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self.events

    def __iter__(self) -> Iterator[EventSpec]:
        return iter(self.events.values())

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, name: str) -> EventSpec:
        try:
            return self.events[name]
        except KeyError:
            raise UnknownEvent(
                f"{name!r} is not in the catalog; known events: {', '.join(self.names)}"
            ) from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.events)

    def suggest_event(self, name: str) -> str | None:
        """The catalog event a name outside the catalog is a near miss of (SPEC's W110: `Purchase`,
        `add-to-cart`, `purchse`), or None (`spec.near.near_miss`)."""
        return near_miss(name, self.names)

    def suggest_key(self, event: str, key: str) -> str | None:
        """The key of `event` a near-miss key most likely meant (`prise` → `price`), or None."""
        spec = self.events.get(event)
        return None if spec is None else close_match(key, spec.key_names)

    def metadata(self, columns: Iterable[str]) -> tuple[str, ...]:
        """`columns` as metadata columns (never checked, never sent), each once. Raises
        MetaColumnError for one that is part of an event: `uid`, `eventName`, `platform` or a
        parameter of this catalog (SPEC.md, "Decisions")."""
        out = tuple(dict.fromkeys(columns))
        for name in out:
            if name in ENVELOPE:
                raise MetaColumnError(f"{name!r} cannot be a metadata column: it is part of every event "
                                      "(metadata columns are never checked nor sent)")
            if name in self._types:
                events = [e.name for e in self if name in e.param_names]
                shown = ", ".join(events[:3]) + (", …" if len(events) > 3 else "")
                raise MetaColumnError(f"{name!r} cannot be a metadata column: it is a parameter of {shown} "
                                      "(metadata columns are never checked nor sent)")
        return out

    @property
    def param_types(self) -> Mapping[str, str]:
        """Every parameter name in the catalog and its one JSON type."""
        return self._types

    @property
    def columns(self) -> tuple[str, ...]:
        """Dataset columns in order: the envelope, then every parameter (union over events)."""
        return (*ENVELOPE, *self._types)

    @property
    def item_types(self) -> Mapping[str, str]:
        return {p.name: p.type for p in self.item_params}

    # -- building -----------------------------------------------------------------
    @classmethod
    def standard(cls) -> Catalog:
        return _STANDARD

    @classmethod
    def from_file(cls, path: str | Path) -> Catalog:
        """The standard catalog extended by a tracking plan file (`.toml` or `.json`)."""
        return _STANDARD.extend(load_plan(path), source=str(path))

    def extend(self, plan: Mapping[str, Any], *, source: str = "plan") -> Catalog:
        """A new catalog with the plan's events and parameters added (see README, "Tracking plans")."""
        events = dict(self.events)
        raw_events = plan.get("events", {})
        if not isinstance(raw_events, Mapping):
            raise PlanError(f"{source}: 'events' must be a table/object of events by name")
        unknown_top = set(plan) - {"events"}
        if unknown_top:
            raise PlanError(f"{source}: unknown top-level key(s) {sorted(unknown_top)}; expected 'events'")
        for name, spec in raw_events.items():
            where = f"{source}: event {name!r}"
            if not isinstance(spec, Mapping):
                raise PlanError(f"{where} must be a table/object")
            if not name or not isinstance(name, str) or name in ENVELOPE:
                raise PlanError(f"{where}: not a usable event name")
            if len(name) > MAX_EVENT_NAME:  # every such event would be E003
                raise PlanError(f"{where}: an event name has at most {MAX_EVENT_NAME} characters (E003)")
            bad = set(spec) - {"group", "description", "params"}
            if bad:
                raise PlanError(f"{where}: unknown key(s) {sorted(bad)}; expected group, description, params")
            params = _parse_params(spec.get("params", {}), where)
            if name in events:
                base = events[name]
                clash = base.param_names & {p.name for p in params}
                if clash:
                    raise PlanError(f"{where}: cannot redefine standard parameter(s) {sorted(clash)}")
                events[name] = EventSpec(base.name, base.group, base.description,
                                         base.params + params, base.custom)
            else:
                events[name] = EventSpec(name, str(spec.get("group", "custom")),
                                         str(spec.get("description", "")), params, custom=True)
        return Catalog(events, self.item_params, source=source)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (`adrop-kit catalog --format json`)."""
        def params(ps: tuple[ParamSpec, ...]) -> list[dict[str, Any]]:
            return [{"name": p.name, "type": p.type, "required": p.required} for p in ps]
        return {
            "source": self.source,
            "envelope": {"uid": "string (required)", "eventName": "string (required)",
                         "platform": list(PLATFORMS)},
            "events": [{"name": e.name, "group": e.group, "description": e.description,
                        "custom": e.custom, "params": params(e.params)} for e in self],
            "item_params": params(self.item_params),
        }


def _parse_params(raw: Any, where: str) -> tuple[ParamSpec, ...]:
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: 'params' must be a table/object of parameters by name")
    out = []
    for pname, pspec in raw.items():
        if isinstance(pspec, str):
            pspec = {"type": pspec}
        if not isinstance(pspec, Mapping):
            raise PlanError(f"{where}: parameter {pname!r} must be a type name or a table")
        extra = set(pspec) - {"type", "required", "description"}
        if extra:
            raise PlanError(f"{where}: parameter {pname!r} has unknown key(s) {sorted(extra)}")
        ptype = pspec.get("type", "string")
        if ptype not in PARAM_TYPES:
            raise PlanError(f"{where}: parameter {pname!r} has type {ptype!r}; "
                            f"expected one of {', '.join(PARAM_TYPES)}")
        if (ptype == "items") != (pname == ITEMS):
            raise PlanError(f"{where}: only the parameter 'items' may (and must) have type 'items'")
        if pname in ENVELOPE:
            raise PlanError(f"{where}: {pname!r} is part of every event already")
        required = pspec.get("required", False)
        if not isinstance(required, bool):
            raise PlanError(f"{where}: parameter {pname!r}: 'required' must be true or false")
        out.append(ParamSpec(pname, ptype, required, str(pspec.get("description", ""))))
    return tuple(out)


def load_plan(path: str | Path) -> dict[str, Any]:
    """Read a tracking plan file; raise `PlanError` naming the file and the problem."""
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise PlanError(f"cannot read tracking plan {p}: {exc.strerror or exc}") from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PlanError(f"tracking plan {p} is not valid {p.suffix.lstrip('.').upper() or 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise PlanError(f"tracking plan {p} must hold a table/object with an 'events' key")
    return data


_STANDARD = Catalog({e.name: e for e in STANDARD_EVENTS})
STANDARD = _STANDARD


def resolve(catalog: Catalog | str | Path | None) -> Catalog:
    """Accept a Catalog, a plan path or None (the standard catalog)."""
    if catalog is None:
        return _STANDARD
    if isinstance(catalog, Catalog):
        return catalog
    return Catalog.from_file(catalog)
