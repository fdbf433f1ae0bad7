"""`FuzzLab`: draw payloads with the hypothesis strategies, send them, compare verdicts, contract-test."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..catalog import Catalog, resolve
from ..errors import AdropError
from . import _logic as logic
from ._base import KeyInput, View, small
from ._fuzzing import Case, cases_rows, draw_cases, probe_cases
from ._target import Target

_DEFAULT_EVENTS = ("sign_up", "add_to_cart", "purchase")


class FuzzLab(View):
    """Choose events, valid and/or invalid payloads and how many; draw them (a table), send them to the
    endpoint (default: an embedded local server) and compare its verdict with the local one.
    "Contract test" runs `adrop_kit.contract.run_contract`, which also shrinks any disagreement it finds.
    """

    def __init__(self, endpoint: str | None = None, app_key: str | None = None, *, server: Any = None,
                 catalog: Catalog | str | None = None, events: tuple[str, ...] | None = None) -> None:
        self.catalog = resolve(catalog)
        self.target = Target(endpoint, app_key, server=server, catalog=self.catalog)
        self.cases: list[Case] = []
        self.probe_rows: list[tuple[Any, ...]] = []
        self.contract_report: Any = None
        chosen = tuple(e for e in (events or _DEFAULT_EVENTS) if e in self.catalog) or self.catalog.names[:1]

        self.events = w.SelectMultiple(options=self.catalog.names, value=chosen, rows=7, description="events")
        auto = {"indent": False, "layout": w.Layout(width="auto")}
        self.valid = w.Checkbox(value=True, description="valid", **auto)
        self.invalid = w.Checkbox(value=True, description="invalid", **auto)
        self.strict = w.Checkbox(value=False, description="strict (W101 is an error locally)", **auto)
        self.n = w.IntSlider(value=20, min=1, max=200, description="N", continuous_update=False)
        self.seed = w.IntText(value=0, description="seed", layout=w.Layout(width="160px"))
        self.draw_button = w.Button(description="Draw", icon="random")
        self.send_button = w.Button(description="Send drawn", icon="paper-plane", button_style="primary")
        self.contract_button = w.Button(description="Contract test", icon="search",
                                        tooltip="adrop_kit.contract.run_contract: probes, compares and shrinks")
        self.where = w.HTML(f"<span style='color:#444'>to {self.target.describe()}</span>")
        self.key = KeyInput(self.target, on_change=self._show_target)
        self.table = w.HTML()
        self.verdicts = w.HTML()
        self.contract = w.HTML()

        self.draw_button.on_click(lambda _: self.draw())
        self.send_button.on_click(lambda _: self.send())
        self.contract_button.on_click(lambda _: self.run_contract())

        key_row = [self.key.password] if not self.target.local else []
        self.widget = w.VBox([
            w.HBox([self.events, w.VBox([w.HBox([self.valid, self.invalid]), self.strict, self.n, self.seed])]),
            small("hold Ctrl/Cmd to choose several events"),
            self.where, *key_row,
            w.HBox([self.draw_button, self.send_button, self.contract_button]),
            self.table, self.verdicts, self.contract,
        ])
        self.widget.add_class("adrop-fuzz-lab")

    def _show_target(self) -> None:
        self.where.value = f"<span style='color:#444'>to {self.target.describe()}</span>"

    def _error(self, where: w.HTML, exc: BaseException) -> None:
        where.value = f"<span style='color:#b00020'>{type(exc).__name__}: {exc}</span>"

    def draw(self) -> list[Case]:
        """Draw N payloads for the chosen events and show them."""
        self.verdicts.value = ""
        try:
            self.cases = draw_cases(list(self.events.value), n=self.n.value, valid=self.valid.value,
                                          invalid=self.invalid.value, seed=self.seed.value, catalog=self.catalog)
        except ValueError as exc:
            self.cases = []
            self._error(self.table, exc)
            return []
        rows = cases_rows(self.cases, self.catalog, self.strict.value)
        self.table.value = (f"<b>{len(rows)} drawn payloads</b>"
                            + logic.table_html(rows, ("#", "event", "breaks", "local verdict", "payload"),
                                               "adrop-table adrop-fuzz-cases"))
        return self.cases

    def send(self) -> list[tuple[Any, ...]]:
        """Send the drawn payloads as they are; compare the endpoint's verdicts with the local ones."""
        if not self.cases and not self.draw():
            return []
        try:
            with self.target.sender(validate=False, progress=False, retries=2, timeout=10.0) as sender:
                self.probe_rows = probe_cases(self.cases, sender, self.catalog, self.strict.value)
        except (AdropError, OSError, ValueError) as exc:
            self._error(self.verdicts, exc)
            return []
        self._show_target()
        bad = [r for r in self.probe_rows if r[5] != "✓"]
        head = (f"<b style='color:#1b7f3b'>all {len(self.probe_rows)} verdicts agree</b>" if not bad else
                f"<b style='color:#b00020'>{len(bad)} of {len(self.probe_rows)} verdicts disagree</b>")
        self.verdicts.value = head + logic.table_html(
            bad + [r for r in self.probe_rows if r[5] == "✓"],
            ("#", "event", "breaks", "expected", "observed", "agree", "HTTP"), "adrop-table adrop-fuzz-verdicts")
        return self.probe_rows

    def run_contract(self) -> Any:
        """`run_contract` against the endpoint with the chosen events: found and shrunk disagreements."""
        from ..contract import run_contract

        events = list(self.events.value) or None  # nothing selected means every event
        self.contract.value = "<i>running the contract test…</i>"
        try:
            endpoint, key = self.target.contract_args()
            report = run_contract(endpoint, key, catalog=self.catalog, strict=self.strict.value, events=events,
                                  examples=self.n.value, seed=self.seed.value, valid=self.valid.value,
                                  invalid=self.invalid.value)
        except (AdropError, OSError, ValueError) as exc:
            self._error(self.contract, exc)
            return None
        self._show_target()
        self.contract_report = report
        html = getattr(report, "_repr_html_", None)
        self.contract.value = ("<div class='adrop-contract'>" + (html() if html else logic.pre_html(repr(report)))
                               + "</div>")
        return report


__all__ = ["FuzzLab"]
