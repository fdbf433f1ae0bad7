"""The hypothesis strategies keep their promises: valid payloads are clean, invalid ones break their rule."""

from __future__ import annotations

import math
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from adrop_kit import Catalog, PlanError, Rule, UnknownEvent, validate_event
from adrop_kit.spec.catalog import PLATFORMS, STANDARD
from adrop_kit.testing.strategies import (
    COMPANIONS,
    INVALID_RULES,
    breakable_rules,
    event_frames,
    events,
    invalid_events,
    items,
)
from adrop_kit.validate.dataset import validate_events as validate_dataset

FAST = settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# custom events of every parameter type, an extended standard event, and a custom event with items
PLAN = Catalog.standard().extend({"events": {
    "level_up": {"params": {"level": {"type": "integer", "required": True}, "hero": "string",
                            "score": "number", "boss": {"type": "boolean", "required": True}}},
    "bundle_checkout": {"params": {"items": {"type": "items", "required": True}, "coupon_id": "string"}},
    "gift": {"params": {"items": "items", "message": "string"}},
    "tip": {"params": {"value": "number", "price": "number", "quantity": "integer",
                       "currency": {"type": "string", "required": True}}},
    "view_item": {"params": {"list_id": "string"}},
    "survey": {"params": {f"q{i:02d}": "string" for i in range(22)}},  # W108 can be drawn for it
}})


def reported(payload: Any, rule: str, catalog: Catalog | None = None) -> None:
    """`payload` breaks `rule` and nothing else (but its COMPANIONS); an error rejects it, a warning does not."""
    report = validate_event(payload, catalog=catalog)
    assert report.rules == {rule} | COMPANIONS.get(rule, set()), (payload, report.violations)
    assert report.ok is Rule(rule).severity.startswith("w"), report.violations
    if rule == "W101":
        assert not validate_event(payload, catalog=catalog, strict=True).ok


# -- events() -----------------------------------------------------------------------------
@FAST
@given(events())
def test_every_drawn_event_is_valid_and_clean(payload: dict) -> None:
    assert validate_event(payload).violations == []
    assert validate_event(payload, strict=True).violations == []


@FAST
@given(events(catalog=PLAN))
def test_events_of_a_plan_catalog_are_valid_and_clean(payload: dict) -> None:
    assert validate_event(payload, catalog=PLAN, strict=True).violations == []


@pytest.mark.parametrize("name", [*STANDARD.names, "level_up", "bundle_checkout", "gift", "tip"])
def test_events_of_one_name(name: str) -> None:
    catalog = PLAN if name not in STANDARD else None

    @FEW
    @given(events(name, catalog=catalog))
    def check(payload: dict) -> None:
        assert payload["eventName"] == name
        assert set(payload) <= PLAN[name].allowed_keys
        assert validate_event(payload, catalog=PLAN, strict=True).violations == []

    check()


@FEW
@given(events("add_to_cart", optional=False, platforms=()))
def test_optional_false_and_no_platforms_leave_only_what_is_required(payload: dict) -> None:
    assert set(payload) == {"uid", "eventName", "item_id", "price", "quantity"}
    assert validate_event(payload).violations == []


@FEW
@given(events(platforms="ios"))
def test_platforms_restricts_the_platform(payload: dict) -> None:
    assert payload.get("platform", "ios") == "ios"


def test_events_vary_what_is_optional() -> None:
    seen: dict[str, set[Any]] = {"platform": set(), "keys": set(), "quantity": set()}

    @settings(max_examples=300, deadline=None, database=None)
    @given(events("add_to_cart"))
    def collect(payload: dict) -> None:
        seen["platform"].add(payload.get("platform"))
        seen["keys"].add(frozenset(payload))
        seen["quantity"].add(type(payload["quantity"]))

    collect()
    assert seen["platform"] == {None, *PLATFORMS}
    assert len(seen["keys"]) > 10
    assert seen["quantity"] == {int, float}, "quantity comes as 3 and as 3.0"


@FAST
@given(items(min_size=2, max_size=3))
def test_items_are_valid_item_arrays(drawn: list) -> None:
    assert 2 <= len(drawn) <= 3
    payload = {"uid": "u1", "eventName": "purchase", "tx_id": "T-1", "items": drawn}
    assert validate_event(payload).violations == []


# -- invalid_events() -----------------------------------------------------------------------
@FAST
@given(invalid_events())
def test_every_invalid_event_breaks_exactly_its_rule(case: tuple[Any, str]) -> None:
    payload, rule = case
    assert rule in INVALID_RULES
    reported(payload, rule)


@FAST
@given(invalid_events(catalog=PLAN))
def test_invalid_events_of_a_plan_catalog(case: tuple[Any, str]) -> None:
    payload, rule = case
    reported(payload, rule, PLAN)


@pytest.mark.parametrize("rule", INVALID_RULES)
def test_each_rule_can_be_asked_for(rule: str) -> None:
    catalog = PLAN if rule == "W108" else None  # W108 alone needs an event of more than 20 parameters

    @FEW
    @given(invalid_events(rules=[rule], catalog=catalog))
    def check(case: tuple[Any, str]) -> None:
        payload, drawn = case
        assert drawn == rule
        reported(payload, rule, catalog)

    check()


@pytest.mark.parametrize(("name", "rules"), [("purchase", ["E007", "E008"]), ("add_to_cart", ["W105", "W103"]),
                                             ("level_up", ["E005", "E006"]), ("tip", ["W104", "W105"]),
                                             ("gift", ["E008", "W103"]), ("bundle_checkout", ["E007"])])
def test_invalid_events_of_one_event_and_some_rules(name: str, rules: list[str]) -> None:
    @FEW
    @given(invalid_events(name, catalog=PLAN, rules=rules))
    def check(case: tuple[Any, str]) -> None:
        payload, rule = case
        assert rule in rules
        if isinstance(payload, dict) and rule not in ("E003", "W101"):
            assert payload.get("eventName") == name
        reported(payload, rule, PLAN)

    check()


@FEW
@given(invalid_events(rules=["E007"]))
def test_a_rule_comes_only_from_events_that_can_break_it(case: tuple[Any, str]) -> None:
    assert case[0]["eventName"] in ("begin_checkout", "purchase")


@FEW
@given(invalid_events("app_open"))
def test_an_event_skips_the_rules_it_cannot_break(case: tuple[Any, str]) -> None:
    assert case[1] in {"E001", "E002", "E003", "E004", "W101", "W102", "W106", "W109", "W110"}


# -- bad arguments raise when the strategy is built ---------------------------------------
@pytest.mark.parametrize(("build", "error", "says"), [
    (lambda: events("nope"), UnknownEvent, "nope"),
    (lambda: events("level_up"), UnknownEvent, "level_up"),
    (lambda: invalid_events("nope"), UnknownEvent, "nope"),
    (lambda: events(platforms=["web", "Web"]), ValueError, "E004"),
    (lambda: events(optional="yes"), TypeError, "optional"),
    (lambda: invalid_events(rules=["E999"]), ValueError, "unknown rule"),
    (lambda: invalid_events(rules=[]), ValueError, "empty"),
    (lambda: invalid_events(rules=["W107"]), ValueError, "dataset"),
    (lambda: invalid_events("app_open", rules=["E005"]), ValueError, "app_open"),
    (lambda: invalid_events("view_item", rules=["E007"]), ValueError, "E007"),
    (lambda: invalid_events("app_open", rules=["W104"]), ValueError, "W104"),
    (lambda: invalid_events(rules=["E007"], catalog=Catalog({})), ValueError, "E007"),
    (lambda: items(min_size=0), ValueError, "E007"),
    (lambda: items(min_size=3, max_size=2), ValueError, "max_size"),
    (lambda: items(max_size=2.5), TypeError, "integers"),
    (lambda: events(catalog="/no/such/plan.toml"), PlanError, "plan.toml"),
])
def test_impossible_arguments_raise_at_once(build: Any, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as exc:
        build()  # building alone raises: nothing is drawn
    assert says in str(exc.value)


def test_arguments_are_accepted_in_their_natural_forms(tmp_path) -> None:  # noqa: ANN001
    plan = tmp_path / "plan.toml"
    plan.write_text('[events.level_up.params]\nlevel = { type = "integer", required = true }\n')
    level_up = find(events("level_up", catalog=plan), lambda p: True)  # a Path, not a Catalog
    assert level_up["eventName"] == "level_up" and isinstance(level_up["level"], int | float)
    assert find(invalid_events(rules="E005"), lambda case: True)[1] == "E005"  # one rule, not a list
    assert find(invalid_events(rules=[Rule.E006, "E006"]), lambda case: True)[1] == "E006"  # a Rule or its id
    assert events("view_item") is events("view_item"), "strategies are cached per catalog"


# -- the dataset validator agrees with validate_event --------------------------------------
_ANY_PAYLOAD = st.one_of(events(), invalid_events().map(lambda case: case[0]))


@pytest.mark.slow  # 100 examples through both validators
def test_the_dataset_validator_reports_the_same_rules_for_one_payload() -> None:
    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_ANY_PAYLOAD, st.booleans())
    def agree(payload: Any, strict: bool) -> None:
        dataset = validate_dataset([payload], strict=strict)
        assert set(dataset.violations["rule"].to_list()) == validate_event(payload, strict=strict).rules, payload
        # not only the same rules: the same fields and severities (numbers may print as 1 or 1.0)
        single = {(v.rule.value, v.field, v.severity) for v in validate_event(payload, strict=strict).violations}
        assert set(dataset.violations.select("rule", "field", "severity").rows()) == single, payload

    agree()


@pytest.mark.slow  # 40 datasets of up to 30 rows
def test_the_dataset_validator_reports_the_same_rules_row_by_row() -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_ANY_PAYLOAD, min_size=1, max_size=30))
    def agree(payloads: list) -> None:
        v = validate_dataset(payloads).violations
        assert v["row"].max() is None or v["row"].max() < len(payloads)
        for row, payload in enumerate(payloads):
            found = set(v.filter(v["row"] == row)["rule"].to_list()) - {"W107"}  # W107 spans rows
            assert found == validate_event(payload).rules, (row, payload)

    agree()


def test_nan_inside_items_reaches_the_dataset_validator() -> None:
    payload = {"uid": "u1", "eventName": "purchase", "tx_id": "T-1", "items": [{"item_id": "A", "price": math.nan}]}
    assert validate_event(payload).rules == {"E008"}
    assert set(validate_dataset([payload]).violations["rule"].to_list()) == {"E008"}


# -- event_frames() ---------------------------------------------------------------------------
def _rules_by_row(frame: Any, **kwargs: Any) -> list[set[str]]:
    from adrop_kit import validate_events

    report = validate_events(frame, **kwargs)
    rows: list[set[str]] = [set() for _ in range(report.rows)]
    for row, rule in report.violations.select("row", "rule").iter_rows():
        rows[row].add(rule)
    return rows


@pytest.mark.parametrize("backend", ["polars", "pandas"])
def test_event_frames_validate_as_their_truth_column_says(backend: str) -> None:
    @settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
    @given(event_frames(max_size=30, invalid_rate=0.5, backend=backend))
    def check(frame: Any) -> None:
        truth = list(frame["_truth"])
        found = _rules_by_row(frame)
        assert len(found) == len(truth)
        for row, (rule, rules) in enumerate(zip(truth, found, strict=True)):
            assert rules == (set() if rule is None else {rule} | COMPANIONS.get(rule, set())), (row, rule, rules)

    check()


@pytest.mark.parametrize("backend", ["polars", "pandas"])
def test_event_frames_of_a_plan_with_a_named_truth_column(backend: str) -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(event_frames("level_up", catalog=PLAN, min_size=5, max_size=10, invalid_rate=1.0, rules=["E005", "E006"],
                        backend=backend, truth_column="broken"))
    def check(frame: Any) -> None:
        assert 5 <= len(frame) <= 10
        truth = list(frame["broken"])
        assert set(truth) <= {"E005", "E006"} and None not in truth
        for rule, rules in zip(truth, _rules_by_row(frame, catalog=PLAN, extra_columns=["broken"]), strict=True):
            assert rules == {rule}

    check()


def test_event_frames_are_polars_or_pandas_frames_of_clean_rows_by_default() -> None:
    import pandas as pd
    import polars as pl

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(event_frames(min_size=1, max_size=20), event_frames(min_size=1, max_size=20, backend="pandas",
                                                                truth_column=None))
    def check(polars_frame: Any, pandas_frame: Any) -> None:
        assert isinstance(polars_frame, pl.DataFrame) and isinstance(pandas_frame, pd.DataFrame)
        assert polars_frame["_truth"].null_count() == len(polars_frame)
        assert "_truth" not in pandas_frame.columns
        assert not any(c.startswith("__bad__") for c in polars_frame.columns), "clean rows are well typed"
        assert all(rules == set() for rules in _rules_by_row(polars_frame) + _rules_by_row(pandas_frame))

    check()


def test_purchases_in_a_frame_never_share_a_tx_id() -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(event_frames("purchase", min_size=30, max_size=30))
    def check(frame: Any) -> None:
        assert frame["tx_id"].n_unique() == 30

    check()


@pytest.mark.parametrize(("kwargs", "error", "says"), [
    ({"backend": "arrow"}, ValueError, "backend"),
    ({"invalid_rate": 1.5}, ValueError, "invalid_rate"),
    ({"invalid_rate": True}, ValueError, "invalid_rate"),
    ({"min_size": 5, "max_size": 2}, ValueError, "min_size"),
    ({"max_size": 2.5}, TypeError, "integers"),
    ({"truth_column": "uid"}, ValueError, "truth_column"),
    ({"invalid_rate": 0.5, "rules": ["E001"]}, ValueError, "E001"),
    ({"rules": ["E005"]}, ValueError, "invalid_rate"),
    ({"name": "nope"}, UnknownEvent, "nope"),
])
def test_event_frames_refuse_impossible_arguments_at_once(kwargs: dict, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as exc:
        event_frames(**kwargs)
    assert says in str(exc.value)


def test_breakable_rules_are_what_invalid_events_draws() -> None:
    assert breakable_rules("app_open") == ("E001", "E002", "E003", "E004", "W101", "W102", "W106", "W109", "W110")
    assert "E007" in breakable_rules("purchase") and "W105" in breakable_rules("add_to_cart")
    assert "E005" in breakable_rules("level_up", catalog=PLAN)
