"""`DatasetValidator`: upload a file (or pass a frame), see the summary, the failures, a chart, downloads."""

from __future__ import annotations

import dataclasses
import html
import os
import shutil
from pathlib import Path
from typing import Any

import ipywidgets as w

from adrop_kit.errors import AdropError
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.report import DatasetReport
from adrop_kit.widgets import _logic as logic
from adrop_kit.widgets._base import View
from adrop_kit.widgets._display import locate

ALL = "(all)"
NO_EVENT = "(no eventName)"


class DatasetValidator(View):
    """Validate a dataset and explore what breaks.

    `data` is anything `validate_events` takes (a path, a pandas/polars frame, a list of dicts) or a
    `DatasetReport` already made; or upload a .csv/.jsonl/.json/.parquet file, or type a path.
    `name` labels the data in the summary (default: the report's source, said plainly: "a polars
    DataFrame of 1,000 rows"). A relative path starts in the kernel's working directory (in a notebook,
    the notebook's folder); the view says where it resolved to, and where it looked when nothing is
    there. Values are shown with their blanks visible (`'KRW '`), as the CLI does.
    """

    def __init__(self, data: Any = None, *, name: str | None = None, catalog: Catalog | str | None = None,
                 strict: bool = False, limit: int = 20) -> None:
        self.catalog = catalog
        self.strict = strict
        self.report: DatasetReport | None = None
        self._tmp: Path | None = None

        self.upload = w.FileUpload(accept=",".join(logic.UPLOAD_SUFFIXES), multiple=False,
                                   description="Upload file")
        self.path = w.Text(placeholder="…or a path: events.jsonl", layout=w.Layout(width="320px"))
        self.path_button = w.Button(description="Validate path", icon="check")
        self.status = w.HTML()
        self.summary = w.HTML()
        self.rule = w.Dropdown(options=(ALL,), value=ALL, description="rule")
        self.event = w.Dropdown(options=(ALL,), value=ALL, description="event")
        self.limit = w.IntSlider(value=limit, min=10, max=500, step=10, description="rows shown",
                                 continuous_update=False)
        self.failures = w.HTML()
        self.chart = w.Output(layout=w.Layout(min_height="40px"))
        self.chart.add_class("adrop-failures-chart")
        self.downloads = w.HTML()
        self.folder = w.Text(value="adrop-output", description="folder", layout=w.Layout(width="320px"))
        self.save_button = w.Button(description="Save CSV files", icon="download")
        self.saved = w.HTML()

        self.upload.observe(self._uploaded, names="value")
        self.path_button.on_click(lambda _: self.validate(self.path.value.strip()))
        for control in (self.rule, self.event, self.limit):
            control.observe(lambda _: self._show_failures(), names="value")
        self.save_button.on_click(lambda _: self.save())

        self.widget = w.VBox([
            w.HBox([self.upload, self.path, self.path_button]),
            self.status,
            self.summary,
            w.HTML("<b>Failures</b>"),
            w.HBox([self.rule, self.event, self.limit]),
            self.failures,
            w.HTML("<b>Failures by rule</b>"),
            self.chart,
            w.HTML("<b>Download</b>"),
            self.downloads,
            w.HBox([self.folder, self.save_button]),
            self.saved,
        ])
        self.widget.add_class("adrop-dataset-validator")
        if data is not None:
            self.validate(data, name=name)
        else:
            self.status.value = "<span style='color:#666'>upload a file or give a path to validate it</span>"

    # -- input ------------------------------------------------------------------------------
    def _uploaded(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        self.upload.value = ()  # the file's bytes do not stay in widget (notebook) state
        try:
            path = logic.upload_to_path(f["name"], f["content"])
        except ValueError as exc:
            self._fail(str(exc))
            return
        self._drop_upload()
        self._tmp = path
        self.validate(path, name=f["name"])

    def _drop_upload(self) -> None:
        """Delete the temporary copy of the last upload (its folder was made for it alone)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp.parent, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        self._drop_upload()
        super().close()

    def validate(self, data: Any, *, name: str | None = None) -> DatasetReport | None:
        """Validate `data` (or take a DatasetReport as it is) and show everything; on an error, show it
        alone (the previous report is cleared, so what is shown is never taken for this data's)."""
        if isinstance(data, str) and not data:
            self._fail("give a path first")
            return None
        where = ""
        if isinstance(data, (str, os.PathLike)):
            path, start = locate(data)
            if not path.exists():
                self._fail(f"cannot read it: no file at {path}" + (
                    f" (“{data}” is relative: it was looked for in the kernel's working directory, {start})"
                    if start is not None else ""))
                return None
            if start is not None:
                where = (f"“{data}” resolved to {path} (a relative path starts in the kernel's working "
                         f"directory, {start})")
            data = path
        if isinstance(data, DatasetReport):
            report = data
        else:
            from adrop_kit import validate_events

            try:
                report = validate_events(data, catalog=self.catalog, strict=self.strict)
            except (AdropError, OSError, ValueError) as exc:
                self._fail(f"cannot read it: {exc}")
                return None
        if name is not None:
            report = dataclasses.replace(report, source=name)
        self.report = report
        self.status.value = f"<span class='adrop-resolved' style='color:#444'>{html.escape(where)}</span>" \
            if where else ""
        self._show()
        return report

    def _fail(self, message: str) -> None:
        """Show an error and clear everything the last report showed."""
        self.report = None
        self.status.value = f"<span class='adrop-error' style='color:#b00020'>{html.escape(message)}</span>"
        for out in (self.summary, self.failures, self.downloads, self.saved):
            out.value = ""
        self.chart.outputs = ()
        self.rule.options, self.rule.value = (ALL,), ALL
        self.event.options, self.event.value = (ALL,), ALL

    # -- output -----------------------------------------------------------------------------
    def _show(self) -> None:
        report = self.report
        assert report is not None
        self.summary.value = logic.summary_html(report)
        v = report.violations
        rules = sorted(set(v.get_column("rule").to_list()))
        events = sorted({e if e is not None else NO_EVENT for e in v.get_column("eventName").to_list()})
        self.rule.options, self.rule.value = (ALL, *rules), ALL
        self.event.options, self.event.value = (ALL, *events), ALL
        self._show_failures()
        self._show_chart()
        self._show_downloads()

    def filtered(self) -> Any:
        """The violations the dropdowns select (a polars DataFrame)."""
        if self.report is None:
            return None
        rule = None if self.rule.value == ALL else self.rule.value
        event = None if self.event.value == ALL else ("" if self.event.value == NO_EVENT else self.event.value)
        return logic.filter_violations(self.report.violations, rule=rule, event=event)

    def _show_failures(self) -> None:
        df = self.filtered()
        if df is None:
            return
        if df.height == 0:
            self.failures.value = "<span style='color:#1b7f3b'>no violations</span>"
            return
        shown = [c for c in self.report.shown_columns  # no `source` column for one file, no empty `line`
                 if c != "line" or df.get_column("line").null_count() < df.height]
        self.failures.value = logic.frame_html(df.select(shown), limit=self.limit.value,
                                               cls="adrop-table adrop-failures")

    def _show_chart(self) -> None:
        report = self.report
        assert report is not None
        if report.violations.height == 0:
            self.chart.outputs = ()
            return
        png = logic.figure_png(logic.failures_figure(report))
        self.chart.outputs = (logic.png_output(png, "failures by rule"),)

    def _show_downloads(self) -> None:
        report = self.report
        assert report is not None
        self.downloads.value = (
            logic.download_link("failures.csv", logic.csv_bytes(report.violations),
                                f"failures ({report.violations.height:,} rows)")
            + logic.download_link("clean_rows.csv", logic.csv_bytes(report.rows_of("valid", form="text")),
                                  f"clean rows ({report.valid:,})"))

    def save(self) -> list[Path]:
        """Write failures.csv and clean_rows.csv into the chosen folder; show the paths."""
        if self.report is None:
            self.saved.value = "<span style='color:#b00020'>nothing validated yet</span>"
            return []
        try:
            paths = logic.save_csvs(self.report, self.folder.value or ".")
        except OSError as exc:
            self.saved.value = f"<span style='color:#b00020'>cannot write: {exc}</span>"
            return []
        self.saved.value = "saved: " + ", ".join(f"<code>{p.resolve()}</code>" for p in paths)
        return paths


__all__ = ["DatasetValidator"]
