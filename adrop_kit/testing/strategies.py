"""Hypothesis strategies drawn from the catalog: valid events, and invalid ones that say which rule they break.

Everything is derived from the catalog (standard, or extended by a tracking plan),
so custom events are generated too. Arguments are checked when a strategy is
built, not when it is drawn: `events("nope")` raises `UnknownEvent` at once.

    from hypothesis import given
    from adrop_kit import validate_event
    from adrop_kit.testing.strategies import events, invalid_events

    @given(events("purchase"))
    def test_purchases_are_accepted(payload):
        assert validate_event(payload).ok

    @given(invalid_events(rules=["E005", "E008"]))
    def test_bad_payloads_are_reported(case):
        payload, rule = case
        assert rule in validate_event(payload).rules

`events()` payloads validate with no violation at all, not even a warning.
Each `invalid_events()` payload is an `events()` payload with one mutation, chosen
so that the rule it names is the only rule it breaks (W101 is a warning unless the
validator runs with `strict=True`). W107, a `tx_id` reused across purchases, is a
property of a dataset, not of one payload, so `invalid_events()` does not draw it. W108 (more than
20 parameters) is drawn only for an event that declares more than 20 (a tracking plan's): more keys
on a smaller event would break W102 or W101 as well. A W109 payload (an object or a list under a
key outside the catalog) also breaks W102, the one exception to "only that rule" (`COMPANIONS`).

`event_frames()` draws polars or pandas DataFrames of such payloads, a share of them broken,
with a truth column naming each row's rule; `breakable_rules(name)` lists what an event can
break. Importing this module registers the Hypothesis profile `adrop-ci` (`CI_PROFILE`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from adrop_kit.spec.catalog import PLATFORMS, Catalog, resolve
from adrop_kit.spec.rules import Rule
from adrop_kit.testing._shapes import UIDS, Case, Payload, Shape, broken_dicts, dict_lists, dicts, make_shape
from adrop_kit.testing.mutations import COMPANIONS
from adrop_kit.testing.mutations import MAX_ITEMS as _MAX_ITEMS
from adrop_kit.testing.mutations import edits as _edits
from adrop_kit.testing.mutations import fits_frame as _fits_frame

__all__ = ["CI_PROFILE", "COMPANIONS", "INVALID_RULES", "breakable_rules", "event_frames", "events", "frames",
           "invalid_events",
           "items"]

INVALID_RULES: tuple[str, ...] = tuple(r.value for r in Rule if r is not Rule.W107)
"""The rules `invalid_events()` can break: every rule but the dataset-level W107."""

CI_PROFILE = "adrop-ci"
"""A Hypothesis settings profile for CI, registered on import (never loaded unless asked):
`pytest --hypothesis-profile=adrop-ci` or `settings.load_profile("adrop-ci")`. Derandomized,
so a CI run is reproducible and cannot flake on a new example; no deadline, since shared
runners stall; 50 examples per test; a failure prints the blob that replays it
(`@reproduce_failure`)."""
settings.register_profile(CI_PROFILE, derandomize=True, deadline=None, max_examples=50, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])

CatalogLike = Catalog | str | Path | None


# -- per-catalog cache -------------------------------------------------------------------
class _Builder:
    """Strategies for one catalog, built on first use. Holds the catalog, so its id stays unique."""

    def __init__(self, cat: Catalog) -> None:
        self.catalog = cat
        self._items: dict[tuple[int, int], st.SearchStrategy[list]] = {}
        self._shapes: dict[tuple[str, tuple[str, ...], bool], Shape] = {}
        self._cases: dict[tuple[str, str, str | None], Case | None] = {}
        self.public: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}  # what events()/invalid_events() return

    def item_lists(self, min_size: int = 1, max_size: int = _MAX_ITEMS) -> st.SearchStrategy[list]:
        key = (min_size, max_size)
        if key not in self._items:
            shape = make_shape(self.catalog.item_params, st.nothing())
            self._items[key] = dict_lists(shape, st.integers(min_size, max_size))
        return self._items[key]

    def shape(self, name: str, platforms: tuple[str, ...] = PLATFORMS, optional: bool = True) -> Shape:
        key = (name, platforms, optional)
        if key not in self._shapes:
            self._shapes[key] = make_shape(
                self.catalog[name].params, self.item_lists(), optional=optional,
                envelope=(("uid", UIDS),), fixed=(("eventName", name),),
                platform=(("platform", (st.sampled_from(platforms), None)),) if platforms else ())
        return self._shapes[key]

    def case(self, name: str, rule: str, frame: str | None = None) -> Case | None:
        """How payloads of `name` break `rule`, or None when none can (`frame`: see `_fits_frame`)."""
        key = (name, rule, frame)
        if key not in self._cases:
            edits = _edits(Rule(rule), self.catalog[name], self.catalog)
            if frame is not None:
                edits = [e for e in edits if _fits_frame(e, frame)]
            self._cases[key] = Case(self.shape(name), st.sampled_from(edits)) if edits else None
        return self._cases[key]


_CACHE: OrderedDict[int, _Builder] = OrderedDict()
_CACHE_SIZE = 32


def _builder(catalog: CatalogLike) -> _Builder:
    cat = resolve(catalog)
    b = _CACHE.get(id(cat))
    if b is None or b.catalog is not cat:
        b = _CACHE[id(cat)] = _Builder(cat)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(id(cat))
    return b


# -- public strategies -------------------------------------------------------------------
def items(*, catalog: CatalogLike = None, min_size: int = 1,
          max_size: int = _MAX_ITEMS) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Valid `items` arrays of `min_size` to `max_size` item objects: a string `item_id`, some optional fields."""
    if type(min_size) is not int or type(max_size) is not int:
        raise TypeError(f"min_size and max_size must be integers, got {min_size!r} and {max_size!r}")
    if min_size < 1:
        raise ValueError(f"min_size={min_size}: an empty items array is invalid (E007); use min_size >= 1")
    if max_size < min_size:
        raise ValueError(f"max_size={max_size} is below min_size={min_size}")
    return _builder(catalog).item_lists(min_size, max_size)


def events(name: str | None = None, *, catalog: CatalogLike = None,
           platforms: Sequence[str] | str = PLATFORMS, optional: bool = True) -> st.SearchStrategy[Payload]:
    """Valid, warning-free payloads of event `name`, or of any catalog event when None.

    `platform` is sometimes absent, otherwise one of `platforms` (empty: never set).
    Optional parameters are sometimes present, never with `optional=False`.
    """
    b = _builder(catalog)
    plats = (platforms,) if isinstance(platforms, str) else tuple(platforms)
    bad = [p for p in plats if p not in PLATFORMS]
    if bad:
        raise ValueError(f"platforms {bad!r} would break E004; choose from {', '.join(PLATFORMS)}")
    if not isinstance(optional, bool):
        raise TypeError(f"optional must be True or False, got {optional!r}")
    names = b.catalog.names if name is None else (b.catalog[name].name,)  # UnknownEvent now, not when drawn
    if not names:
        raise ValueError(f"catalog {b.catalog.source!r} has no events to draw")
    key = ("events", name, plats, optional)
    if key not in b.public:
        shapes = tuple(b.shape(n, plats, optional) for n in names)
        b.public[key] = dicts(shapes, st.sampled_from(shapes) if len(shapes) > 1 else None)
    return b.public[key]


def invalid_events(name: str | None = None, *, catalog: CatalogLike = None,
                   rules: Iterable[str] | str | None = None) -> st.SearchStrategy[tuple[Any, str]]:
    """`(payload, rule_id)`: a payload of event `name` (any event when None) breaking rule `rule_id` only.

    Rules are drawn uniformly from `rules` (default `INVALID_RULES`), each with an event that can
    break it. Asking for what cannot be drawn raises ValueError at once: an unknown rule id, W107
    (dataset-level), or a rule the named event cannot break (E005 for app_open, which has no
    required parameter; E007 for view_item, which has no items). With `name=None` each rule
    comes from the events that can break it; with `rules=None` the event's impossible rules are skipped.
    """
    return _invalid(_builder(catalog), name, rules)


def _invalid(b: _Builder, name: str | None, rules: Iterable[str] | str | None, *,
             frame: str | None = None) -> st.SearchStrategy[tuple[Any, str]]:
    """`invalid_events()`; `frame="polars"|"pandas"` keeps only what a frame row can hold (see event_frames)."""
    wanted = rule_ids(rules)
    if frame is not None:
        if rules is not None and Rule.E001.value in wanted:
            raise ValueError("E001 (the body is not a JSON object) cannot be drawn in a frame: every row is an object")
        wanted = tuple(r for r in wanted if r != Rule.E001.value)
    names = b.catalog.names if name is None else (b.catalog[name].name,)
    key = ("invalid_events", name, wanted, rules is None, frame)
    if key in b.public:
        return b.public[key]
    table: dict[str, list[Case]] = {}
    for rule in wanted:
        cases = [c for n in names if (c := b.case(n, rule, frame)) is not None]
        if cases:
            table[rule] = cases
        elif rules is not None:
            where = f"event {name!r}" if name is not None else "any event of this catalog"
            raise ValueError(f"no payload of {where} can break {rule} ({Rule(rule).title})")
    if not table:
        raise ValueError(f"catalog {b.catalog.source!r} has no events to break")
    # one choice picks (rule, event): every rule gets as many slots, filled by its events in turn
    width = max(len(cases) for cases in table.values())
    flat = [(rule, cases[i % len(cases)]) for rule, cases in table.items() for i in range(width)]
    b.public[key] = broken_dicts(st.sampled_from(flat))
    return b.public[key]


def rule_ids(rules: Iterable[str] | str | None) -> tuple[str, ...]:
    if rules is None:
        return INVALID_RULES
    wanted = (rules,) if isinstance(rules, str) else tuple(rules)
    if not wanted:
        raise ValueError("rules is empty: name at least one rule id, or pass None for all")
    out: list[str] = []
    for r in wanted:
        rid = r.value if isinstance(r, Rule) else r
        if rid == Rule.W107.value:
            raise ValueError("W107 (tx_id reused across purchases) is a dataset rule: one payload cannot break it")
        if rid not in INVALID_RULES:
            raise ValueError(f"unknown rule id {r!r}; expected one of {', '.join(INVALID_RULES)}")
        if rid not in out:
            out.append(rid)
    return tuple(out)


def breakable_rules(name: str, *, catalog: CatalogLike = None) -> tuple[str, ...]:
    """The rule ids a payload of event `name` can break, in rule order: what `invalid_events(name)` draws."""
    b = _builder(catalog)
    spec = b.catalog[name]  # UnknownEvent at once
    return tuple(r for r in INVALID_RULES if b.case(spec.name, r) is not None)


# -- frames --------------------------------------------------------------------------------
BACKENDS: tuple[str, ...] = ("polars", "pandas")
_RATE_STEPS = 1000


def event_frames(name: str | None = None, *, catalog: CatalogLike = None, min_size: int = 0, max_size: int = 50,
                 invalid_rate: float = 0.0, rules: Iterable[str] | str | None = None,
                 platforms: Sequence[str] | str = PLATFORMS, backend: str = "polars",
                 truth_column: str | None = "_truth") -> st.SearchStrategy[Any]:
    """DataFrames of `min_size` to `max_size` events, about `invalid_rate` of the rows broken.

    Each row is an `events(name)` payload, or with probability `invalid_rate` an
    `invalid_events(name, rules=rules)` one. `truth_column` (None: no such column) holds the
    rule the row breaks, null for a clean row; a leading `_` marks it as metadata, which
    `validate_events` neither checks nor sends. Clean rows validate without any violation,
    even W107: a `tx_id` drawn twice is made unique. One column per key, in the order seen.

    polars: the layout `validate_events` reads JSON sources into: typed columns, `items` as
    JSON text, and a value of the wrong JSON type (`"price": "29900"`, an E006) kept as JSON
    text in a side column `__bad__<key>` next to its typed column.
    pandas: object columns hold such values as they are and `items` as lists of dicts; a
    top-level NaN is never drawn there, since pandas reads it as a missing value.
    A frame row is always an object, so E001 is never drawn (asking for it raises).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
    if type(min_size) is not int or type(max_size) is not int:
        raise TypeError(f"min_size and max_size must be integers, got {min_size!r} and {max_size!r}")
    if min_size < 0 or max_size < min_size:
        raise ValueError(f"need 0 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}")
    if isinstance(invalid_rate, bool) or not isinstance(invalid_rate, (int, float)) or not 0 <= invalid_rate <= 1:
        raise ValueError(f"invalid_rate must be a number between 0 and 1, not {invalid_rate!r}")
    b = _builder(catalog)
    if truth_column is not None and (not isinstance(truth_column, str) or not truth_column
                                     or truth_column in b.catalog.columns or truth_column.startswith("__")):
        raise ValueError(f"truth_column {truth_column!r} must be a new column name (not an event key, no '__' "
                         "prefix); start it with '_' so validate_events ignores it")
    if backend == "pandas":
        import pandas  # noqa: F401  # ImportError now, not when drawn
    else:
        import polars  # noqa: F401
    valid = events(name, catalog=b.catalog, platforms=platforms)
    if rules is not None and not invalid_rate:
        raise ValueError("rules is given but invalid_rate is 0: no row would break them")
    broken = _invalid(b, name, rules, frame=backend) if invalid_rate else None
    threshold = round(_RATE_STEPS * (1 - invalid_rate))  # a draw >= threshold is broken; draws shrink to valid
    row = _rows(valid, broken, st.integers(0, _RATE_STEPS - 1) if broken is not None else None, threshold)
    return st.lists(row, min_size=min_size, max_size=max_size).map(
        partial(_frame, catalog=b.catalog, backend=backend, truth_column=truth_column))


@st.composite
def _rows(draw: st.DrawFn, valid: st.SearchStrategy[Payload], broken: st.SearchStrategy[tuple[Any, str]] | None,
          coin: st.SearchStrategy[int] | None, threshold: int) -> tuple[Any, str | None]:
    if coin is not None and draw(coin) >= threshold:
        return draw(broken)
    return draw(valid), None


def _frame(rows: list[tuple[Any, str | None]], *, catalog: Catalog, backend: str, truth_column: str | None) -> Any:
    payloads, truth = _unique_tx_ids([p for p, _ in rows]), [r for _, r in rows]
    if backend == "pandas":
        import pandas as pd

        df = pd.DataFrame(payloads) if payloads else pd.DataFrame(index=range(0))
        if truth_column is not None:
            df[truth_column] = pd.Series(truth, dtype=object)
        return df
    import polars as pl

    from adrop_kit.io.frames import ERROR, ROW, from_records

    df = from_records(payloads, catalog).df.drop(ROW, ERROR)
    if truth_column is not None:
        df = df.with_columns(pl.Series(truth_column, truth, pl.String))
    return df


def _unique_tx_ids(payloads: list[Any]) -> list[Any]:
    """W107 is a dataset rule: a tx_id drawn twice gets a row suffix, so it breaks nothing."""
    seen: set[str] = set()
    out = []
    for i, p in enumerate(payloads):
        tx = p.get("tx_id") if isinstance(p, dict) else None
        if isinstance(tx, str) and tx:
            if tx in seen:
                tx = f"{tx}~{i}"
                p = {**p, "tx_id": tx}
            seen.add(tx)
        out.append(p)
    return out


def frames(model: type, *, min_size: int = 0, max_size: int = 50, invalid_rate: float = 0.0,
           rules: Iterable[str] | str | None = None, truth_column: str | None = None) -> st.SearchStrategy[Any]:
    """Typed frames a model of `adrop_kit.validate.schemas` reads (`frames(Purchase)`; a pandas frame for
    a `schemas.pandas` model): `min_size` to `max_size` events of the model's event (any event for
    `Events`), about `invalid_rate` of them broken as `invalid_events` breaks them, among the breaks a
    typed frame can hold (not a value of the wrong JSON type: a typed column cannot hold it). With no
    broken row, `model.validate(frame)` passes without a warning. `truth_column`: as `event_frames`.
    """
    import polars as pl

    from adrop_kit.validate.schemas.typed import holds_typed, typed_frame

    plan = getattr(model, "__adrop_plan__", None)
    if plan is None:
        raise TypeError(f"{model!r} is not a model of adrop_kit.validate.schemas")
    if isinstance(invalid_rate, bool) or not isinstance(invalid_rate, (int, float)) or not 0 <= invalid_rate <= 1:
        raise ValueError(f"invalid_rate must be a number between 0 and 1, not {invalid_rate!r}")
    if rules is not None and not invalid_rate:
        raise ValueError("rules is given but invalid_rate is 0: no row would break them")
    b = _builder(plan.catalog)
    name = plan.events[0] if plan.events and len(plan.events) == 1 else None
    valid = events(name, catalog=b.catalog)
    broken = None
    if invalid_rate:
        broken = _invalid(b, name, rules, frame="polars").filter(lambda case: holds_typed(case[0], model))
    threshold = round(_RATE_STEPS * (1 - invalid_rate))
    row = _rows(valid, broken, st.integers(0, _RATE_STEPS - 1) if broken is not None else None, threshold)

    def build(rows: list[tuple[Any, str | None]]) -> Any:
        df = typed_frame(_unique_tx_ids([p for p, _ in rows]), model)
        if truth_column is None:
            return df
        truth = [r for _, r in rows]
        if isinstance(df, pl.DataFrame):
            return df.with_columns(pl.Series(truth_column, truth, pl.String))
        df[truth_column] = truth
        return df

    return st.lists(row, min_size=min_size, max_size=max_size).map(build)
