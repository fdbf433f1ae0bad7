"""The shareable HTML report: one self-contained file with the counts, charts and first violations."""

from __future__ import annotations

import re

from adrop_kit import validate_events
from adrop_kit.explore.report_page import report_page, write_report_page

ROWS = [
    {"uid": "u1", "eventName": "app_open"},
    {"uid": "u2", "eventName": "sign_up"},                                          # E005
    {"uid": "u3", "eventName": "view_item", "item_id": "a", "price": -5},                           # W103
    {"uid": "u5", "eventName": "generate_lead", "form_id": "f", "currency": "<script>alert(1)</script>"},  # W104
    {"uid": "u4", "eventName": "add_to_cart", "item_id": "a", "price": 10, "quantity": 1, "currency": "KRW "},
]


def test_the_page_holds_the_counts_charts_and_violations(tmp_path):
    report = validate_events(ROWS)
    path = write_report_page(report, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    for label, n in report.summary().items():
        assert re.search(rf"<b>{n:,}</b><span>{label}</span>", page), label
    assert "1 of 5 rows would be rejected by Adrop" in page
    assert page.count("<svg") == 2 and "Violations by rule" in page and "Violations by event" in page
    assert "E005" in page and "W103" in page and "W104" in page
    assert "&#x27;KRW &#x27;" in page  # the blank that breaks W104 is visible


def test_data_is_escaped_and_nothing_is_fetched():
    page = report_page(validate_events(ROWS))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=|url\(|@import|<link|<script""", page)  # opens offline, runs nothing


def test_a_clean_dataset_says_so_without_empty_charts():
    page = report_page(validate_events(ROWS[:1]), title="Nightly export")
    assert "<title>Nightly export</title>" in page and "Every row is valid and nothing looks off." in page
    assert "<svg" not in page and "<h2>Violations</h2>" not in page


CELL = "<td style='text-align:left;padding:2px 8px'>{}</td>"


def test_a_repeated_violation_is_listed_once_with_its_count_and_first_rows():
    rows = [{"uid": f"u{i}", "eventName": "sign_up"} for i in range(30)]
    rows += [{"uid": f"v{i}", "eventName": "app_open", "itemId": "x"} for i in range(3)]  # W102, fewer
    page = report_page(validate_events(rows))
    listing = page[page.index("<h2>Violations</h2>"):]
    assert listing.count(CELL.format("E005")) == 1 and listing.count(CELL.format("W102")) == 1
    assert listing.index("E005") < listing.index("W102")  # errors first
    assert CELL.format("0, 1, 2, 3, 4") in listing and "<b>30</b><span>invalid</span>" in page


def test_only_the_largest_groups_are_listed_but_all_are_counted():
    rows = [{"uid": f"u{i}", "eventName": "app_open", f"extra_{i}": 1} for i in range(30)]  # 30 distinct W102
    page = report_page(validate_events(rows), limit=10)
    listing = page[page.index("<h2>Violations</h2>"):]
    assert listing.count(CELL.format("W102")) == 10 and "The 10 largest groups" in listing


def test_bars_are_sorted_coloured_by_severity_and_labels_are_whole():
    from adrop_kit.explore.report_page import AMBER, RED

    rows = [{"uid": "u", "eventName": "app_open", "junk": 1}] * 5 + [{"uid": "u", "eventName": "sign_up"}] * 2
    page = report_page(validate_events(rows))
    events = page[page.index("Violations by event"):]
    assert events.index(">app_open<") < events.index(">sign_up<")  # the most violations first
    assert f"fill='{AMBER}'" in events and f"fill='{RED}'" in events  # warnings amber, errors red
    assert ">W102 a key the event&#x27;s catalog entry does not list<" in page  # the full title, not cut
