"""`FuzzLab`: draw payloads, send them, compare verdicts, contract-test: all through one `ContractRun`."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from adrop_kit.errors import AdropError
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.testing.contract import ContractReport, ContractRun, ProbeResult
from adrop_kit.testing.strategies import INVALID_RULES
from adrop_kit.widgets import _logic as logic
from adrop_kit.widgets._base import KeyInput, View, small
from adrop_kit.widgets._target import WIDGET_RETRY, Target

_DEFAULT_EVENTS = ("sign_up", "add_to_cart", "purchase")


class FuzzLab(View):
    """Choose events (none: every event), rules (none: every rule), valid and/or invalid payloads, how
    many and a seed; then, all through `adrop_kit.testing.contract.ContractRun`:

    - "Draw" shows the payloads a run draws and the verdict `validate_event` expects for each (a dry
      run against an embedded server with the same rules: the endpoint is not contacted). An empty seed
      box means a fresh random seed per Draw; the seed used is shown, and typing it in draws the same
      payloads again. A note says when a payload's eventName is not its row's event (W101 replaces it);
    - "Send drawn" sends them (the last Draw's seed, same payloads) to the endpoint (default: an
      embedded local server) and compares its verdicts with the expected ones, exactly on the JSON sent;
    - "Contract test" does the same, then shrinks every disagreement to a minimal payload.

    To a host that is not this machine the run refuses to send payloads the contract accepts (they
    would be stored as real events) unless "yes" is ticked.
    """

    def __init__(self, endpoint: str | None = None, app_key: str | None = None, *, server: Any = None,
                 catalog: Catalog | str | None = None, events: tuple[str, ...] | None = None,
                 rules: tuple[str, ...] = ()) -> None:
        self.catalog = resolve(catalog)
        self.target = Target(endpoint, app_key, server=server, catalog=self.catalog)
        self.cases: list[ProbeResult] = []
        """The payloads the last "Draw" showed, with the verdicts expected for them."""
        self.report: ContractReport | None = None
        """The last "Send drawn": every `ProbeResult` and, unshrunk, every `Disagreement`."""
        self.contract_report: ContractReport | None = None
        """The last "Contract test": the same, with every disagreement shrunk."""
        self.drawn_seed: int | None = None
        """The seed of the last "Draw" ("Send drawn" and "Contract test" use it while the seed box is empty)."""
        chosen = tuple(e for e in (events or _DEFAULT_EVENTS) if e in self.catalog) or self.catalog.names[:1]

        self.events = w.SelectMultiple(options=self.catalog.names, value=chosen, rows=7, description="events")
        self.rules = w.SelectMultiple(options=INVALID_RULES, value=tuple(r for r in rules if r in INVALID_RULES),
                                      rows=7, description="rules", layout=w.Layout(width="200px"))
        auto = {"indent": False, "layout": w.Layout(width="auto")}
        self.valid = w.Checkbox(value=True, description="valid", **auto)
        self.invalid = w.Checkbox(value=True, description="invalid", **auto)
        self.strict = w.Checkbox(value=False, description="strict (W101, W110 are errors locally)", **auto)
        self.yes = w.Checkbox(value=False, description="yes: a remote host may store accepted payloads", **auto)
        self.n = w.IntSlider(value=20, min=1, max=200, description="examples", continuous_update=False)
        self.seed = w.Text(value="", placeholder="random each Draw", description="seed",
                           tooltip="empty: a fresh random seed per Draw (shown); a number: the same payloads again",
                           layout=w.Layout(width="220px"))
        self.draw_button = w.Button(description="Draw", icon="random",
                                    tooltip="show the payloads and expected verdicts; the endpoint is not contacted")
        self.send_button = w.Button(description="Send drawn", icon="paper-plane", button_style="primary",
                                    tooltip="send the drawn payloads and compare verdicts")
        self.contract_button = w.Button(description="Contract test", icon="search",
                                        tooltip="send, compare, and shrink every disagreement")
        self.where = w.HTML(f"<span style='color:#444'>to {self.target.describe()}</span>")
        self.key = KeyInput(self.target, on_change=self._show_target)
        self.progress = w.IntProgress(value=0, min=0, max=1, description="sent", bar_style="info")
        self.table = w.HTML()
        self.verdicts = w.HTML()
        self.contract = w.HTML()

        self.draw_button.on_click(lambda _: self.draw())
        self.send_button.on_click(lambda _: self.send())
        self.contract_button.on_click(lambda _: self.run_contract())

        key_row = [self.key.password] if not self.target.local else []
        self.widget = w.VBox([
            w.HBox([self.events, self.rules,
                    w.VBox([w.HBox([self.valid, self.invalid]), self.strict, self.n, self.seed, self.yes])]),
            small("hold Ctrl/Cmd to choose several; none chosen means all. Every event/rule pair gets at least "
                  "one payload; valid pairs get three shares of the examples"),
            self.where, *key_row,
            w.HBox([self.draw_button, self.send_button, self.contract_button]),
            self.progress, self.table, self.verdicts, self.contract,
        ])
        self.widget.add_class("adrop-fuzz-lab")

    def _show_target(self) -> None:
        self.where.value = f"<span style='color:#444'>to {self.target.describe()}</span>"

    def _error(self, where: w.HTML, exc: BaseException) -> None:
        where.value = f"<span style='color:#b00020'>{type(exc).__name__}: {html.escape(str(exc))}</span>"

    def chosen_seed(self, *, draw: bool) -> int | None:
        """The seed a run uses: the one typed in the box; else, for a Draw, None (a fresh random one), and
        for a send, the last Draw's (so it sends what was shown). Raises ValueError for a non-number."""
        text = self.seed.value.strip()
        if text:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"seed must be a whole number (or empty for a random one), not {text!r}") from None
        return None if draw else self.drawn_seed

    def options(self, *, shrink: bool, draw: bool = False) -> dict[str, Any]:
        """The `ContractRun` options the controls describe (no endpoint, no key)."""
        return {"catalog": self.catalog, "strict": self.strict.value, "events": list(self.events.value) or None,
                "rules": list(self.rules.value) or None, "examples": self.n.value,
                "seed": self.chosen_seed(draw=draw), "valid": self.valid.value, "invalid": self.invalid.value,
                "shrink": shrink, "retry": WIDGET_RETRY, "yes": self.yes.value}

    def _run(self, make: Any, where: w.HTML, *, shrink: bool, draw: bool = False) -> ContractReport | None:
        """Build a run (`make(**options)`: arguments are checked before any request) and iterate it,
        moving the progress bar as each verdict arrives."""
        try:
            run: ContractRun = make(**self.options(shrink=shrink, draw=draw))
        except (AdropError, OSError, ValueError) as exc:
            self._error(where, exc)
            return None
        self.progress.max, self.progress.value, self.progress.bar_style = max(1, run.planned), 0, "info"

        def follow(item: Any) -> None:
            if isinstance(item, ProbeResult):
                self.progress.value = min(self.progress.max, self.progress.value + 1)

        report = run.run(on_result=follow)
        bad = report.error or any(not r.agreed for r in report.results)
        self.progress.bar_style = "danger" if report.error else "warning" if bad else "success"
        return report

    def draw(self) -> list[ProbeResult]:
        """Show the payloads a run with these settings sends, and the verdict expected for each."""
        self.verdicts.value = ""
        self.table.value = "<i>drawing…</i>"
        # no endpoint: an embedded same-rules server
        report = self._run(ContractRun, self.table, shrink=False, draw=True)
        if report is None:
            self.cases = []
            return []
        self.cases = report.results
        self.drawn_seed = report.seed
        stopped = f"<div style='color:#b00020'>stopped: {html.escape(report.error)}</div>" if report.error else ""
        how = ("the seed you chose" if self.seed.value.strip() else
               "a fresh random seed; type it into “seed” to draw these again")
        self.table.value = (f"<b>{len(self.cases)} drawn payloads</b> (<span class='adrop-seed'>seed "
                            f"{report.seed}</span>: {how}; “Send drawn” sends these)"
                            + stopped
                            + logic.table_html(logic.probe_rows(self.cases, observed=False, catalog=self.catalog),
                                               logic.DRAW_HEADER, "adrop-table adrop-fuzz-cases"))
        return self.cases

    def send(self) -> ContractReport | None:
        """Send the payloads (the same ones "Draw" shows) and compare the endpoint's verdicts."""
        self.verdicts.value = "<i>sending…</i>"
        report = self._run(self.target.contract_run, self.verdicts, shrink=False)
        self._show_target()
        if report is None:
            return None
        self.report = report
        self.verdicts.value = (f"<div style='color:#666'>seed {report.seed}</div>"
                               + logic.verdicts_html(report, catalog=self.catalog))
        return report

    def run_contract(self) -> ContractReport | None:
        """A contract run against the endpoint: every verdict compared, every disagreement shrunk."""
        self.contract.value = "<i>running the contract test…</i>"
        report = self._run(self.target.contract_run, self.contract, shrink=True)
        self._show_target()
        if report is None:
            return None
        self.contract_report = report
        self.contract.value = f"<div class='adrop-contract'>{report._repr_html_()}</div>"
        return report


__all__ = ["FuzzLab"]
