"""`MappingLab`: try mapping choices on an export and see the mapping report change.

The choices are the ones a team has to make when it moves a GA4 export to Adrop: where `page_id`
comes from, which items an `add_to_cart` / `view_item` row gives, whether unmapped events are kept.
Each change re-runs the same import (`adrop_kit.importers`) with a `variant` of the mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from adrop_kit.io.importers.mapping import Mapping, default_mapping, variant
from adrop_kit.support.html import html_table
from adrop_kit.validate.importers import MappingReport, run
from adrop_kit.widgets._base import View

PAGE_ID = {"path of page_location, else the app screen": ("path(params.page_location)", "params.firebase_screen"),
           "page_title, else the app screen": ("params.page_title", "params.firebase_screen"),
           "the full page_location": ("params.page_location", "params.firebase_screen")}
ITEMS = ("with_quantity", "each", "about")


class MappingLab(View):
    """Import `path` (a GA4 export) with the choices set in the controls; `.report` is the last report."""

    def __init__(self, path: str | Path, *, kind: str = "ga4", mapping: Mapping | None = None) -> None:
        self.path = path
        self.kind = kind
        self.base = mapping or default_mapping(kind)
        self.report: MappingReport | None = None
        self.page_id = w.Dropdown(options=list(PAGE_ID), description="page_id")
        self.add_to_cart = w.ToggleButtons(options=ITEMS, value="with_quantity", description="add_to_cart")
        self.view_item = w.ToggleButtons(options=ITEMS, value="about", description="view_item")
        self.keep = w.Checkbox(value=False, description="keep unmapped events as custom events")
        self.out = w.HTML()
        for control in (self.page_id, self.add_to_cart, self.view_item, self.keep):
            control.observe(self._changed, names="value")
        self.widget = w.VBox([self.page_id, self.add_to_cart, self.view_item, self.keep, self.out])
        self.refresh()

    @property
    def mapping(self) -> Mapping:
        """The mapping the controls describe."""
        return variant(self.base, page_id=PAGE_ID[self.page_id.value],
                       items={"add_to_cart": self.add_to_cart.value, "view_item": self.view_item.value},
                       unmapped="keep" if self.keep.value else "skip")

    def _changed(self, _: Any = None) -> None:
        self.refresh()

    def refresh(self) -> MappingReport:
        _, self.report = run(self.kind, self.path, self.mapping)
        self.out.value = report_html(self.report)
        return self.report

    @property
    def events(self) -> int:
        return self.report.events if self.report is not None else 0


def report_html(report: MappingReport) -> str:
    """The mapping report as a small HTML summary with its tables."""
    def tab(title: str, counts: dict[str, int], limit: int = 10) -> str:
        if not counts:
            return ""
        table = html_table([(k, f"{v:,}") for k, v in list(counts.items())[:limit]], (title, "count"),
                           cls="adrop-mapping")
        return f"<div style='display:inline-block;vertical-align:top;margin-right:18px'>{table}</div>"

    head = (f"<p><b>{report.rows:,}</b> rows read · <b>{report.mapped_rows:,}</b> mapped · "
            f"<b>{report.events:,}</b> events · <b>{sum(report.skipped.values()):,}</b> skipped · "
            f"<b style='color:{'#b00' if report.invalid else '#070'}'>{report.invalid:,}</b> invalid</p>")
    return head + tab("events", report.by_event) + tab("skipped", report.skipped) + tab("lost", report.lost) + \
        tab("invalid, by rule", report.invalid_by_rule)


__all__ = ["ITEMS", "PAGE_ID", "MappingLab", "report_html"]
