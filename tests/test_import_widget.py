"""The notebook's widget: mapping choices re-run the import and the report follows."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from adrop_kit.explore.ga4_sample import ga4_rows, write_ga4_sample  # noqa: E402
from adrop_kit.widgets import MappingLab  # noqa: E402


def test_choices_change_the_report(tmp_path):
    lab = MappingLab(write_ga4_sample(tmp_path / "events_20241201.json", 400, seed=3))
    per_quantity = lab.report.by_event["add_to_cart"]
    lab.add_to_cart.value = "each"
    assert lab.report.by_event["add_to_cart"] > per_quantity  # one per item listed: the fake add-to-carts
    lab.keep.value = True
    assert "user_engagement" in lab.report.by_event and "user_engagement" not in lab.report.skipped
    lab.page_id.value = "the full page_location"
    assert lab.mapping.rules[0].params[0] == ("page_id", ("params.page_location", "params.firebase_screen"))
    assert "<table" in lab.out.value


def test_the_sample_export_has_the_traps_of_real_ones():
    rows = ga4_rows(300, seed=1)
    assert all(isinstance(r["event_timestamp"], str) for r in rows)  # INT64 as BigQuery's JSON writes it
    carts = [r for r in rows if r["event_name"] == "add_to_cart" and len(r["items"]) == 12]
    assert carts and all(sum(it["quantity"] is not None for it in r["items"]) <= 1 for r in carts)
    slots = {next(k for k, v in p["value"].items() if v is not None)
             for r in rows for p in r["event_params"] if p["key"] == "session_engaged"}
    assert slots == {"string_value", "int_value"}
