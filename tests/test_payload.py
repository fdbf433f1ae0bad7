"""validate_event, rule by rule: what a user sends, and what the report tells them.

Every rule of SPEC.md has an accepted and a rejected (or warned) example here, with the
rule id, the field path and a message a person can act on.
"""

from __future__ import annotations

import json
import math

import pytest

from adrop_kit import Catalog, PlanError, Rule, UnknownEvent, validate_event
from adrop_kit.spec.rules import Violation

# -- the examples of Adrop's page (reference/adrop-event-api.txt) -----------------------
APP_OPEN = {"uid": "USER_ID", "eventName": "app_open"}
VIEW_ITEM = {"uid": "USER_ID", "eventName": "view_item", "platform": "web", "item_id": "SKU-123",
             "item_name": "Widget", "item_category": "Electronics", "brand": "BrandX", "price": 29900}
PURCHASE = {"uid": "USER_ID", "eventName": "purchase", "platform": "web", "tx_id": "TXN-20240101-001",
            "currency": "KRW", "items": [
                {"item_id": "SKU-001", "item_name": "Product A", "item_category": "Electronics", "brand": "BrandX",
                 "price": 29900, "quantity": 1},
                {"item_id": "SKU-002", "item_name": "Product B", "price": 15000, "quantity": 2}]}
GENERATE_LEAD = {"uid": "USER_ID", "eventName": "generate_lead", "platform": "web", "form_id": "contact-form-01",
                 "form_name": "Contact Us", "form_type": "contact", "form_destination": "/thank-you",
                 "value": 50000, "currency": "KRW"}
ADD_TO_CART = {"uid": "USER_ID", "eventName": "add_to_cart", "item_id": "SKU-1", "price": 9900, "quantity": 2,
               "value": 19800, "currency": "KRW"}


def with_(payload: dict, **changes: object) -> dict:
    """A copy of `payload` with keys set (a value of `...` deletes the key)."""
    out = {**payload, **changes}
    return {k: v for k, v in out.items() if v is not ...}


def item_edit(payload: dict, index: int, **changes: object) -> dict:
    items = [dict(it) for it in payload["items"]]
    items[index] = with_(items[index], **changes)
    return {**payload, "items": items}


def the(payload: object, rule: str, field: str, *, strict: bool = False, catalog: object = None,
        mentions: str | None = None) -> Violation:
    """The one violation of `rule` at `field`; its message names the field (or `mentions`)."""
    report = validate_event(payload, strict=strict, catalog=catalog)
    found = [v for v in report.violations if v.rule == rule and v.field == field]
    assert len(found) == 1, f"expected {rule} at {field!r}, got {report.violations}"
    v = found[0]
    assert v.severity == ("error" if rule.startswith("E") else "warning") or (strict and rule == "W101")
    assert (mentions or field) in v.message, v.message
    assert v.message[0].isprintable() and len(v.message) > 10
    return v


@pytest.mark.parametrize("payload", [APP_OPEN, VIEW_ITEM, PURCHASE, GENERATE_LEAD, ADD_TO_CART],
                         ids=["app_open", "view_item", "purchase", "generate_lead", "add_to_cart"])
def test_the_reference_examples_are_valid_and_clean(payload: dict) -> None:
    report = validate_event(payload)
    assert report.ok and report.violations == [] and report.rules == set()
    assert str(report) == "ok"


def test_app_open_needs_no_platform_and_accepts_each_platform() -> None:
    for platform in ("web", "android", "ios", None):
        assert validate_event(with_(APP_OPEN, platform=platform)).violations == []


# -- E001 --------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [[APP_OPEN], json.dumps(APP_OPEN), 42, 1.5, None, True, ""])
def test_e001_the_body_must_be_a_json_object(body: object) -> None:
    v = the(body, "E001", "", mentions="JSON object")
    assert validate_event(body).rules == {"E001"}
    assert not validate_event(body).ok
    assert v.row is None


# -- E002 --------------------------------------------------------------------------------
@pytest.mark.parametrize("uid", ["USER_ID", "u", " padded ", "사용자-1", "12345"])
def test_e002_accepts_any_non_blank_string_uid(uid: str) -> None:
    assert validate_event(with_(APP_OPEN, uid=uid)).violations == []


@pytest.mark.parametrize(("uid", "says"), [(..., "missing"), (None, "missing"), ("", "empty"), ("   ", "empty"),
                                           ("\t\n", "empty"), (123, "must be a string"), (True, "a boolean"),
                                           (["u1"], "an array")])
def test_e002_rejects_a_missing_blank_or_non_string_uid(uid: object, says: str) -> None:
    v = the(with_(APP_OPEN, uid=uid), "E002", "uid")
    assert says in v.message


# -- E003 --------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "says"), [(..., "missing"), (None, "missing"), ("", "empty"),
                                            (7, "must be a string"), (["view_item"], "an array")])
def test_e003_rejects_a_missing_empty_or_non_string_event_name(name: object, says: str) -> None:
    payload = with_(VIEW_ITEM, eventName=name, itemId="typo", price="not checked")
    v = the(payload, "E003", "eventName")
    assert says in v.message
    assert validate_event(payload).rules == {"E003"}, "without a name, parameters cannot be checked"


# -- E004 --------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["Web", "windows", "iOS", "", "android ", 1, True, ["web"]])
def test_e004_platform_is_exactly_web_android_or_ios(platform: object) -> None:
    v = the(with_(VIEW_ITEM, platform=platform), "E004", "platform")
    assert "web, android, ios" in v.message


# -- E005 --------------------------------------------------------------------------------
def test_e005_a_required_parameter_missing_null_or_empty() -> None:
    sign_up = {"uid": "u1", "eventName": "sign_up", "method": "email"}
    assert validate_event(sign_up).violations == []
    for method, says in ((..., "missing"), (None, "missing"), ("", "empty")):
        v = the(with_(sign_up, method=method), "E005", "method")
        assert says in v.message and "sign_up" in v.message
    report = validate_event(with_(ADD_TO_CART, price=..., quantity=None, value=...))
    assert [(v.rule, v.field) for v in report.errors] == [(Rule.E005, "price"), (Rule.E005, "quantity")]


def test_e005_null_counts_as_absent_for_optional_parameters_too() -> None:
    assert validate_event(with_(VIEW_ITEM, brand=None, price=None, platform=None)).violations == []


# -- E006 --------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value", "says"), [
    ("price", "29900", "got a string"), ("price", True, "got a boolean"), ("price", math.nan, "got NaN"),
    ("price", math.inf, "got Infinity"), ("item_name", 5, "got an integer"), ("brand", ["x"], "got an array"),
])
def test_e006_view_item_parameter_types(field: str, value: object, says: str) -> None:
    v = the(with_(VIEW_ITEM, **{field: value}), "E006", field)
    assert says in v.message


@pytest.mark.parametrize(("value", "says"), [(2.5, "a number with a fraction"), ("3", "a string"),
                                             (True, "a boolean"), (math.inf, "Infinity")])
def test_e006_quantity_is_an_integer(value: object, says: str) -> None:
    v = the(with_(ADD_TO_CART, quantity=value, value=...), "E006", "quantity")
    assert "must be an integer" in v.message and says in v.message


def test_e006_accepts_integral_floats_for_quantity_and_ints_or_floats_for_prices() -> None:
    assert validate_event(with_(ADD_TO_CART, quantity=3.0, price=9.99, value=29.97)).violations == []
    assert validate_event(with_(VIEW_ITEM, price=0)).violations == []
    assert validate_event(with_(GENERATE_LEAD, value=12.5)).violations == []


# -- E007 --------------------------------------------------------------------------------
@pytest.mark.parametrize("event", ["purchase", "begin_checkout"])
@pytest.mark.parametrize(("items", "says"), [(..., "missing"), (None, "missing"), ([], "empty array"),
                                             ("SKU-1", "got a string"), ({"item_id": "SKU-1"}, "got an object")])
def test_e007_checkout_and_purchase_carry_a_non_empty_items_array(event: str, items: object, says: str) -> None:
    payload = with_(PURCHASE, eventName=event, items=items, tx_id=PURCHASE["tx_id"] if event == "purchase" else ...)
    v = the(payload, "E007", "items")
    assert says in v.message and event in v.message
    assert validate_event(with_(payload, items=PURCHASE["items"])).violations == []


def test_e007_does_not_apply_to_events_without_items() -> None:
    assert validate_event(VIEW_ITEM).violations == []


# -- E008 --------------------------------------------------------------------------------
@pytest.mark.parametrize(("index", "change", "field", "says"), [
    (1, {"item_id": ...}, "items[1].item_id", "missing"),
    (1, {"item_id": None}, "items[1].item_id", "missing"),
    (0, {"item_id": ""}, "items[0].item_id", "empty"),
    (1, {"item_id": 2}, "items[1].item_id", "must be a string"),
    (0, {"price": "29900"}, "items[0].price", "must be a number"),
    (0, {"price": math.nan}, "items[0].price", "NaN"),
    (1, {"quantity": 1.5}, "items[1].quantity", "must be an integer"),
    (1, {"quantity": True}, "items[1].quantity", "a boolean"),
    (0, {"brand": 7}, "items[0].brand", "must be a string"),
])
def test_e008_each_item_is_checked_with_its_path(index: int, change: dict, field: str, says: str) -> None:
    payload = item_edit(PURCHASE, index, **change)
    v = the(payload, "E008", field)
    assert says in v.message
    assert validate_event(payload).rules == {"E008"}


@pytest.mark.parametrize("element", ["SKU-1", 3, None, ["SKU-1"]])
def test_e008_an_item_that_is_not_an_object(element: object) -> None:
    payload = {**PURCHASE, "items": [PURCHASE["items"][0], element]}
    the(payload, "E008", "items[1]", mentions="item object")


def test_e008_item_quantity_accepts_integral_floats_and_absent_optional_fields() -> None:
    assert validate_event(item_edit(PURCHASE, 1, quantity=2.0, item_name=None)).violations == []
    assert validate_event({**PURCHASE, "items": [{"item_id": "SKU-1"}]}).violations == []


# -- W101 and strict mode -----------------------------------------------------------------
def test_w101_an_unknown_event_is_a_warning_and_strict_makes_it_an_error() -> None:
    custom = {"uid": "u1", "eventName": "level_up", "level": 3}
    v = the(custom, "W101", "eventName", mentions="level_up")
    assert "tracking plan" in v.message
    assert validate_event(custom).ok and validate_event(custom).rules == {"W101"}
    strict = validate_event(custom, strict=True)
    assert not strict.ok and [e.rule for e in strict.errors] == [Rule.W101]
    assert "strict" in strict.errors[0].message
    assert validate_event(VIEW_ITEM, strict=True).violations == []


# -- custom events from a tracking plan ----------------------------------------------------
LEVEL_PLAN = {"events": {"level_up": {"params": {"level": {"type": "integer", "required": True}}}}}


def test_a_plan_makes_a_custom_event_known_and_checks_its_parameters() -> None:
    cat = Catalog.standard().extend(LEVEL_PLAN)
    assert cat["level_up"].custom and "level_up" not in Catalog.standard()
    level_up = {"uid": "u1", "eventName": "level_up", "level": 3}
    assert validate_event(level_up, catalog=cat).violations == []
    assert validate_event(level_up, catalog=cat, strict=True).violations == []
    the(with_(level_up, level=...), "E005", "level", catalog=cat)
    the(with_(level_up, level="3"), "E006", "level", catalog=cat)
    the(with_(level_up, level=2.5), "E006", "level", catalog=cat)
    the(with_(level_up, score=10), "W102", "score", catalog=cat)
    assert validate_event(VIEW_ITEM, catalog=cat).violations == [], "standard events stay as they were"


def test_a_plan_file_is_accepted_wherever_a_catalog_is(tmp_path) -> None:  # noqa: ANN001
    plan = tmp_path / "plan.toml"
    plan.write_text('[events.level_up.params]\nlevel = { type = "integer", required = true }\nhero = "string"\n')
    cat = Catalog.from_file(plan)
    assert cat.source == str(plan) and cat["level_up"].param("hero").type == "string"
    level_up = {"uid": "u1", "eventName": "level_up", "level": 3, "hero": "knight"}
    assert validate_event(level_up, catalog=str(plan)).violations == []
    as_json = tmp_path / "plan.json"
    as_json.write_text(json.dumps(LEVEL_PLAN))
    assert validate_event(level_up, catalog=Catalog.from_file(as_json)).rules == {"W102"}  # no hero there


@pytest.mark.parametrize(("plan", "says"), [
    ({"events": {"level_up": {"params": {"level": "date"}}}}, "type 'date'"),
    ({"events": {"level_up": {"params": {"price": "string"}}}}, "one type across the catalog"),
    ({"events": {"view_item": {"params": {"price": "number"}}}}, "cannot redefine"),
    ({"events": {"level_up": {"params": {"level": {"type": "integer", "required": "yes"}}}}}, "true or false"),
    ({"events": {"level_up": {"params": {"bag": "items"}}}}, "only the parameter 'items'"),
    ({"events": {"level_up": {"oops": 1}}}, "unknown key"),
    ({"event": {}}, "unknown top-level key"),
    ({"events": {"uid": {}}}, "not a usable event name"),
])
def test_a_malformed_plan_raises_plan_error(plan: dict, says: str) -> None:
    with pytest.raises(PlanError) as exc:
        Catalog.standard().extend(plan)
    assert says in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_plan_files_that_cannot_be_used_raise_plan_error_naming_the_file(tmp_path) -> None:  # noqa: ANN001
    broken = tmp_path / "plan.toml"
    broken.write_text("[events.level_up\nparams = 1\n")
    with pytest.raises(PlanError, match="not valid TOML"):
        Catalog.from_file(broken)
    with pytest.raises(PlanError, match="cannot read tracking plan"):
        Catalog.from_file(tmp_path / "missing.toml")
    with pytest.raises(PlanError):
        validate_event(APP_OPEN, catalog=str(tmp_path / "missing.toml"))
    conflicting = tmp_path / "conflict.toml"
    conflicting.write_text('[events.tip.params]\nvalue = "string"\n')
    with pytest.raises(PlanError, match="'value'"):
        Catalog.from_file(conflicting)


def test_an_unknown_event_name_for_the_catalog_raises_unknown_event() -> None:
    with pytest.raises(UnknownEvent, match="level_up") as exc:
        Catalog.standard()["level_up"]
    assert isinstance(exc.value, KeyError) and "known events" in str(exc.value)


# -- W102 --------------------------------------------------------------------------------
@pytest.mark.parametrize(("payload", "key"), [(with_(VIEW_ITEM, itemId="SKU-1"), "itemId"),
                                              (with_(VIEW_ITEM, tx_id="T-1"), "tx_id"),
                                              (with_(APP_OPEN, ts=1_700_000_000), "ts")])
def test_w102_a_key_the_event_does_not_list(payload: dict, key: str) -> None:
    v = the(payload, "W102", key)
    assert payload["eventName"] in v.message
    assert validate_event(payload).ok


def test_w102_a_null_extra_key_is_absent() -> None:
    assert validate_event(with_(VIEW_ITEM, itemId=None)).violations == []


# -- W103 --------------------------------------------------------------------------------
@pytest.mark.parametrize(("payload", "field", "says"), [
    (with_(VIEW_ITEM, price=-1), "price", "negative"),
    (with_(GENERATE_LEAD, value=-50000), "value", "negative"),
    (with_(ADD_TO_CART, quantity=0, value=0), "quantity", "below 1"),
    (item_edit(PURCHASE, 1, price=-15000), "items[1].price", "negative"),
    (item_edit(PURCHASE, 0, quantity=0), "items[0].quantity", "below 1"),
])
def test_w103_negative_amounts_and_quantities_below_one(payload: dict, field: str, says: str) -> None:
    v = the(payload, "W103", field)
    assert says in v.message
    assert validate_event(payload).ok and validate_event(payload).rules == {"W103"}


def test_w103_zero_prices_and_quantity_one_are_fine() -> None:
    assert validate_event(with_(ADD_TO_CART, price=0, quantity=1, value=0)).violations == []


# -- W104 --------------------------------------------------------------------------------
@pytest.mark.parametrize("currency", ["krw", "KRWX", "₩", "US", "", "Krw"])
def test_w104_currency_is_three_upper_case_letters(currency: str) -> None:
    v = the(with_(GENERATE_LEAD, currency=currency), "W104", "currency")
    assert "ISO 4217" in v.message


@pytest.mark.parametrize("currency", ["KRW", "USD", "EUR", "JPY"])
def test_w104_iso_codes_pass(currency: str) -> None:
    assert validate_event(with_(PURCHASE, currency=currency)).violations == []


def test_w104_a_non_string_currency_is_a_type_error_not_a_warning() -> None:
    assert validate_event(with_(PURCHASE, currency=410)).rules == {"E006"}


# -- W105 --------------------------------------------------------------------------------
def test_w105_add_to_cart_value_must_equal_price_times_quantity() -> None:
    v = the(with_(ADD_TO_CART, value=10000), "W105", "value")
    assert "price * quantity" in v.message and v.value == "10000"
    assert validate_event(with_(ADD_TO_CART, value=...)).violations == []
    assert validate_event(with_(ADD_TO_CART, price=9.99, quantity=3, value=29.97)).violations == []


def test_w105_is_not_checked_when_price_or_quantity_is_broken() -> None:
    assert validate_event(with_(ADD_TO_CART, quantity="2", value=1)).rules == {"E006"}


# -- W106 --------------------------------------------------------------------------------
@pytest.mark.parametrize(("uid", "what"), [("jane@example.com", "e-mail"), ("+82 10-1234-5678", "phone"),
                                           ("010-1234-5678", "phone"), ("01012345678", "phone"),
                                           ("(555) 123-4567", "phone")])
def test_w106_a_uid_that_looks_like_personal_data(uid: str, what: str) -> None:
    v = the(with_(APP_OPEN, uid=uid), "W106", "uid")
    assert what in v.message
    assert validate_event(with_(APP_OPEN, uid=uid)).ok


@pytest.mark.parametrize("uid", ["USER_ID", "user-12345678", "12345", "a1b2c3d4e5", "order@",
                                 "821012345678", "2024-01-01", "123456789012"])  # numeric ids and dates are not phones
def test_w106_ordinary_ids_do_not_look_personal(uid: str) -> None:
    assert validate_event(with_(APP_OPEN, uid=uid)).violations == []


# -- W107 ----------------------------------------------------------------------------------
def test_w107_is_a_dataset_rule_so_one_payload_never_reports_it() -> None:
    assert Rule.W107.severity == "warning"
    assert "W107" not in validate_event(PURCHASE).rules


# -- the report --------------------------------------------------------------------------
def test_the_report_lists_every_problem_with_rule_field_and_value() -> None:
    payload = with_(PURCHASE, uid="jane@example.com", platform="Web", currency="krw", extra="x")
    payload = item_edit(payload, 1, item_id="")
    report = validate_event(payload)
    assert report.rules == {"W106", "E004", "W104", "E008", "W102"}
    assert not report.ok
    assert {v.rule.value for v in report.errors} == {"E004", "E008"}
    assert [v.field for v in report.violations if v.rule == "E004"] == ["platform"]
    assert [v.value for v in report.violations if v.rule == "E004"] == ["Web"]
    d = report.to_dict()
    assert d["ok"] is False and {v["rule"] for v in d["violations"]} == report.rules
    assert "E008 items[1].item_id" in str(report)


# -- E003: at most 64 characters (SPEC.md, Adrop's Korean API page "1~64자") --------------------
@pytest.mark.parametrize("name", ["e" * 65, "이" * 65, "😀" * 65, "purchase" + "_" * 57])
def test_e003_rejects_an_event_name_longer_than_64_code_points(name: str) -> None:
    v = the(with_(APP_OPEN, eventName=name), "E003", "eventName", mentions="65 characters")
    assert "64" in v.message
    assert validate_event(with_(APP_OPEN, eventName=name)).rules == {"E003"}, "not also W101"


@pytest.mark.parametrize("name", ["e" * 64, "이" * 64, "😀" * 64])
def test_e003_accepts_64_code_points_whatever_their_bytes(name: str) -> None:
    assert validate_event(with_(APP_OPEN, eventName=name)).rules == {"W101"}
