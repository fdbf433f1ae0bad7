"""W110 (a near miss of a catalog event), the suggestions of E004 and W104, and the sends that hold
W110 rows back by default (issue 18). What a user does, then what they rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings

import adrop_kit as ak
from adrop_kit.cli.main import main
from adrop_kit.server.payload import judge
from adrop_kit.spec.catalog import PLATFORMS, Catalog
from adrop_kit.spec.near import CURRENCIES, near_miss
from adrop_kit.testing.strategies import invalid_events

STANDARD = Catalog.standard()


# -- the one suggestion function -------------------------------------------------------------
@pytest.mark.parametrize(("name", "meant"), [
    ("Purchase", "purchase"), ("PURCHASE", "purchase"), ("add_to_Cart", "add_to_cart"),
    ("add-to-cart", "add_to_cart"), ("add to cart", "add_to_cart"), ("addToCart", "add_to_cart"),
    ("purchase ", "purchase"), ("purchse", "purchase"), ("purchasee", "purchase"), ("view_itme", "view_item"),
    ("pageview", "page_view"), ("sign-up", "sign_up"), ("clik", "click"), ("begin_chekout", "begin_checkout"),
])
def test_a_near_miss_of_a_catalog_event_names_the_event_meant(name: str, meant: str) -> None:
    report = ak.validate_event({"uid": "u1", "eventName": name})
    [v] = report.violations
    assert (v.rule, v.severity, v.field, v.value) == ("W110", "warning", "eventName", name)
    assert f"did you mean '{meant}'?" in v.message
    assert report.ok, "a warning: the contract accepts it"


@pytest.mark.parametrize("name", ["level_up", "custom_event", "share_article", "app_close", "영상_시청",
                                  "checkout_purchase_done", "x"])
def test_a_custom_event_far_from_the_catalog_stays_w101_without_a_suggestion(name: str) -> None:
    [v] = ak.validate_event({"uid": "u1", "eventName": name}).violations
    assert v.rule == "W101" and "did you mean" not in v.message


def test_an_event_declared_in_a_tracking_plan_is_never_w110() -> None:
    plan = STANDARD.extend({"events": {"add-to-cart": {}, "Purchase": {}}})
    for name in ("add-to-cart", "Purchase"):
        assert ak.validate_event({"uid": "u1", "eventName": name}, catalog=plan).violations == []
        assert ak.validate_events([{"uid": "u1", "eventName": name}], catalog=plan).violations.height == 0
    # a near miss of the plan's own event is W110 as well
    custom = STANDARD.extend({"events": {"level_up": {}}})
    [v] = ak.validate_event({"uid": "u1", "eventName": "Level-Up"}, catalog=custom).violations
    assert v.rule == "W110" and "'level_up'" in v.message


def test_strict_mode_makes_a_near_miss_an_error_as_it_does_a_custom_event() -> None:
    [v] = ak.validate_event({"uid": "u1", "eventName": "Purchase"}, strict=True).violations
    assert (v.rule, v.severity) == ("W110", "error") and "did you mean 'purchase'?" in v.message
    assert not judge(b'{"uid":"u1","eventName":"Purchase"}', STANDARD, True).ok
    assert judge(b'{"uid":"u1","eventName":"Purchase"}', STANDARD, False).ok, "the server accepts a warning"


@pytest.mark.parametrize(("value", "meant"), [("iOS", "ios"), ("IOS", "ios"), ("Andriod", "android"),
                                              ("Web", "web"), ("android ", "android"), ("web-", "web"),
                                              ("windows", None), ("win", None), ("mac", None), ("", None)])
def test_e004_says_what_platform_was_meant_when_it_is_obvious(value: str, meant: str | None) -> None:
    [v] = ak.validate_event({"uid": "u1", "eventName": "app_open", "platform": value}).violations
    assert v.rule == "E004"
    assert v.message.endswith(f"(did you mean '{meant}'?)") if meant else "did you mean" not in v.message


@pytest.mark.parametrize(("value", "meant"), [("krw", "KRW"), ("usd", "USD"), ("Usd ", "USD"), ("k-r-w", "KRW"),
                                              ("EURO", None), ("US$", None), ("₩", None), ("Won", None),
                                              ("kwr", None)])
def test_w104_says_what_currency_was_meant_when_it_is_obvious(value: str, meant: str | None) -> None:
    payload = {"uid": "u1", "eventName": "add_to_cart", "item_id": "A", "price": 1, "quantity": 1, "currency": value}
    [v] = ak.validate_event(payload).violations
    assert v.rule == "W104"
    assert v.message.endswith(f"(did you mean '{meant}'?)") if meant else "did you mean" not in v.message


def test_near_miss_is_one_function_with_no_guess_when_two_are_as_near() -> None:
    assert near_miss("kwr", CURRENCIES) is None  # KRW and KWD are one edit away each
    assert near_miss("ios", PLATFORMS) is None, "a candidate is no near miss"
    assert near_miss("x" * 10_000, PLATFORMS) is None
    assert STANDARD.suggest_event("Purchase") == near_miss("Purchase", STANDARD.names) == "purchase"


# -- every entry point ---------------------------------------------------------------------------
ROWS: list[dict[str, Any]] = [
    {"uid": "u1", "eventName": "Purchase", "tx_id": "T1", "value": "12,900"},
    {"uid": "u2", "eventName": "add_to_Cart", "item_id": "A"},
    {"uid": "u3", "eventName": "level_up"},
    {"uid": "u4", "eventName": "app_open", "platform": "iOS"},
    {"uid": "u5", "eventName": "app_open", "platform": "windows"},
    {"uid": "u6", "eventName": "add_to_cart", "item_id": "A", "price": 1, "quantity": 1, "currency": "krw"},
    {"uid": "u7", "eventName": "purchase", "tx_id": "T2", "items": [{"item_id": "A"}], "currency": "usd "},
    {"uid": "u8", "eventName": "Purchase", "platform": "Andriod"},
    {"uid": "u9", "eventName": "view_item", "item_id": "A"},
]


def _verdicts(report: ak.DatasetReport) -> set[tuple[Any, ...]]:
    return set(report.violations.select("row", "rule", "severity", "field", "message").iter_rows())


def test_w110_and_the_suggestions_are_the_same_in_every_entry_point(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    single = {(i, v.rule.value, v.severity, v.field, v.message)
              for i, p in enumerate(ROWS) for v in ak.validate_event(p).violations}
    assert {(r, rule) for r, rule, *_ in single} >= {(0, "W110"), (1, "W110"), (2, "W101"), (3, "E004"),
                                                     (5, "W104"), (6, "W104"), (7, "W110"), (7, "E004")}
    for name, data in {"list": ROWS, "jsonl": path, "pandas": pd.DataFrame(ROWS),
                       "polars": pl.from_dicts(ROWS, infer_schema_length=None)}.items():
        assert _verdicts(ak.validate_events(data)) == single, name
    assert _verdicts(ak.validate_events(ROWS, engine="pandera")) == single, "pandera"
    assert _verdicts(ak.validate_events(path, batch_bytes=64)) == single, "streamed, a few rows a batch"


def test_a_dataset_asks_the_suggestion_once_per_distinct_value() -> None:
    near_miss.cache_clear()
    rows = [{"uid": f"u{i}", "eventName": ("Purchase", "level_up", "app_open")[i % 3], "platform": "iOS"}
            for i in range(30_000)]
    report = ak.validate_events(rows)
    assert report.by_rule().filter(pl.col("rule") == "W110").get_column("rows").item() == 10_000
    assert near_miss.cache_info().misses <= 4, near_miss.cache_info()  # Purchase, level_up, iOS (+ app_open)


@settings(max_examples=40, deadline=None)
@given(invalid_events(rules=["W110"]))
def test_invalid_events_can_break_w110_alone(case: tuple[Any, str]) -> None:
    payload, rule = case
    assert rule == "W110"
    assert ak.validate_event(payload).rules == {"W110"}


# -- summaries: how many rows are held, how many go out as custom events --------------------------
def test_validate_says_how_many_rows_are_near_misses_and_custom_events(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.jsonl"
    rows = [*({"uid": "u", "eventName": "Purchase", "tx_id": "T"} for _ in range(3)),
            *({"uid": "u", "eventName": "add_to_Cart"} for _ in range(2)),
            *({"uid": "u", "eventName": "level_up"} for _ in range(4)),
            {"uid": "u", "eventName": "level_up", "platform": "pc"}]  # an error: not sent, not counted
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert ("5 rows would be held back by a send as near misses of catalog events (W110): Purchase ×3, "
            "add_to_Cart ×2") in out
    assert "4 rows would go out as custom events, their parameters unchecked (W101): level_up ×4" in out
    report = ak.validate_events(path)
    assert report.event_notes() == [line.strip() for line in out.splitlines() if "×" in line]
    assert "Purchase ×3" in report._repr_html_()
    from adrop_kit.explore.report_page import report_page
    assert "Purchase ×3" in report_page(report)
    streamed = ak.validate_events(path, batch_bytes=40, violations_out=tmp_path / "v.jsonl")
    assert streamed.event_notes() == report.event_notes(), "counted batch by batch when violations go to a file"


SEND_ROWS = [{"uid": "u1", "eventName": "Purchase", "tx_id": "T1"},
             {"uid": "u2", "eventName": "Purchase", "tx_id": "T2"},
             {"uid": "u3", "eventName": "level_up"},
             {"uid": "u4", "eventName": "app_open"}]


def test_a_send_holds_w110_rows_by_default_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in SEND_ROWS), encoding="utf-8")
    assert main(["send", str(path), "--dry-run"]) == 0, "held rows do not change the exit code"
    out = capsys.readouterr().out
    assert "2 rows held for W110 (a near miss of a catalog event, not sent): Purchase ×2" in out
    assert "1 row would go out as custom events (W101" in out and "level_up ×1" in out
    assert '"eventName":"Purchase"' not in out.split("requests (nothing was sent)")[1]
    assert "--hold-warnings none" in out

    assert main(["send", str(path), "--dry-run", "--hold-warnings", "none", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["held"] == 0 and data["summary"]["dry_run"] == 4
    assert data["custom_events"] == {"Purchase": 2, "level_up": 1}, "sent as they are, they are custom events"

    assert main(["send", str(path), "--dry-run", "--hold-warnings", "W107", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["held"] == 0, "a list without W110 sends them"
    assert main(["send", str(path), "--dry-run", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["held_for_W110"] == {"Purchase": 2} and data["summary"]["held"] == 2


def test_the_sender_holds_w110_by_default_one_event_or_a_dataset() -> None:
    from adrop_kit.send.sender import Sender

    with Sender(dry_run=True) as sender:
        held = sender.send({"uid": "u1", "eventName": "Purchase", "tx_id": "T"})
        assert held.outcome == "held" and "did you mean 'purchase'?" in held.error
        report = sender.send_all(SEND_ROWS)
        assert (report.held, report.count("dry_run")) == (2, 2)
        assert report.held_for("W110") == {"Purchase": 2} and report.custom_events == {"level_up": 1}
        assert "Purchase ×2" in report._repr_html_()
    with Sender(dry_run=True, hold_warnings=False) as sender:
        assert sender.send_all(SEND_ROWS).held == 0
    with Sender(dry_run=True, validate=False) as sender:  # nothing validated: nothing to hold
        assert sender.send_all(SEND_ROWS).held == 0


def test_the_send_panel_shows_the_held_near_misses(tmp_path: Path) -> None:
    pytest.importorskip("ipywidgets")
    from adrop_kit.widgets.send import SendPanel

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in SEND_ROWS), encoding="utf-8")
    panel = SendPanel(str(path))
    report = panel.send(dry_run=True)
    assert report is not None and report.held == 2
    assert "held for W110" in panel.note.value and "Purchase ×2" in panel.note.value


def test_the_widgets_show_w110_and_the_suggestions() -> None:
    pytest.importorskip("ipywidgets")
    from adrop_kit.widgets import DatasetValidator, EventComposer

    v = DatasetValidator(ROWS)
    assert "near misses of catalog events (W110)" in v.summary.value and "Purchase ×1" in v.summary.value
    assert "W110" in v.failures.value and "did you mean" in v.failures.value
    c = EventComposer(event="add_to_cart")
    c.example_button.click()
    c.fields["currency"].value = "krw"
    assert "W104" in c.verdict.value and "KRW" in c.verdict.value.split("W104")[1]
    c.close()


@pytest.mark.slow  # a JVM, and Python workers per partition
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_says_w110_as_locally_and_its_send_holds_the_rows(spark: Any, adrop_server: Any, tmp_path: Path) -> None:
    from adrop_kit.spark import collect, send, validate

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    local = ak.validate_events(path)
    got = collect(validate(str(path), spark=spark)).violations.drop("source")
    assert got.sort(pl.all()).equals(local.violations.drop("source").sort(pl.all()))
    rows = {r["row"]: r["outcome"] for r in send(str(path), app_key=adrop_server.app_key,
                                                  endpoint=adrop_server.endpoint, spark=spark).collect()}
    assert rows[0] == rows[1] == "held" and rows[7] == "skipped"  # near misses held; row 7 has E004 as well
    assert rows[2] == "delivered", "a custom event far from the catalog goes out"
