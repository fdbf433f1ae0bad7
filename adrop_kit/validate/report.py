"""Reports: `EventReport` for one payload, `DatasetReport` for a dataset.

Reports are data; they never raise unless asked (`raise_for_errors`).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from adrop_kit.errors import InvalidEvents
from adrop_kit.io.html import html_table
from adrop_kit.io.labels import source_label
from adrop_kit.spec.rules import Rule, Violation

if TYPE_CHECKING:
    import polars as pl


VIOLATION_COLUMNS = ("row", "line", "eventName", "rule", "severity", "field", "value", "message")


@dataclass
class EventReport:
    """The verdict on one payload: `ok` when no error (warnings allowed)."""

    violations: list[Violation] = field(default_factory=list)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rules(self) -> set[str]:
        return {v.rule.value for v in self.violations}

    def __bool__(self) -> bool:
        return self.ok

    def raise_for_errors(self) -> None:
        if not self.ok:
            raise InvalidEvents("; ".join(f"{v.rule} {v.field}: {v.message}" for v in self.errors))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "violations": [v.to_dict() for v in self.violations]}

    def __str__(self) -> str:
        if not self.violations:
            return "ok"
        return "\n".join(f"{v.severity:7} {v.rule} {v.field or '(body)'}: {v.message}" for v in self.violations)


@dataclass
class DatasetReport:
    """The verdict on a dataset.

    rows = valid + invalid; `warned` counts valid rows that carry at least one warning.
    `violations` is a polars DataFrame with one row per broken rule
    (row, line, eventName, rule, severity, field, value, message), ordered by row; `line` is the
    1-based line the row starts on in a text file (JSONL, CSV as an editor shows it), else null.
    """

    rows: int
    violations: pl.DataFrame
    frame: pl.DataFrame = field(repr=False)
    source: str = "<data>"
    strict: bool = False
    elapsed_s: float = 0.0
    notes: tuple[str, ...] = ()
    """What the reader noticed about the whole input, said once (e.g. a CSV read as one column
    whose name holds semicolons: a hint to give the delimiter)."""
    _valid_rows: Any = field(default=None, repr=False)

    # -- counts ---------------------------------------------------------------------
    @cached_property
    def invalid_rows(self) -> pl.Series:
        """Row numbers (positions in the input) with at least one error."""
        import polars as pl

        return self.violations.filter(pl.col("severity") == "error").get_column("row").unique().sort()

    @property
    def invalid(self) -> int:
        return len(self.invalid_rows)

    @property
    def valid(self) -> int:
        return self.rows - self.invalid

    @property
    def valid_rows(self) -> pl.DataFrame:
        """The rows that passed (warnings allowed), in input order; `__row` keeps their position.
        Built on first use: a report on a million rows does not copy them unless asked."""
        if self._valid_rows is None:
            import polars as pl

            from adrop_kit.io.frames import BAD, ERROR, RAW

            df = self.frame.filter(~pl.col("__row").is_in(self.invalid_rows.implode()))
            drop = [c for c in df.columns if c in (ERROR, RAW, "__ev")
                    or (c.startswith(BAD) and df.get_column(c).null_count() == df.height)]
            self._valid_rows = df.drop(drop)
        return self._valid_rows

    @property
    def warned(self) -> int:
        import polars as pl

        v = self.violations
        bad = v.filter(pl.col("severity") == "error").get_column("row").unique()
        warn = v.filter(pl.col("severity") == "warning").get_column("row").unique()
        return warn.filter(~warn.is_in(bad.implode())).len() if len(warn) else 0

    @property
    def ok(self) -> bool:
        return self.invalid == 0

    @property
    def errors(self) -> pl.DataFrame:
        import polars as pl

        return self.violations.filter(pl.col("severity") == "error")

    @property
    def warnings(self) -> pl.DataFrame:
        import polars as pl

        return self.violations.filter(pl.col("severity") == "warning")

    @property
    def failures(self) -> pl.DataFrame:
        """Alias of `violations`: the failures table."""
        return self.violations

    def summary(self) -> dict[str, int]:
        return {"rows": self.rows, "valid": self.valid, "invalid": self.invalid, "warned": self.warned}

    def by_rule(self) -> pl.DataFrame:
        """Violations and distinct rows per rule, with the rule's severity and title."""
        import polars as pl

        counts = (self.violations.group_by("rule", "severity")
                  .agg(pl.len().alias("violations"), pl.col("row").n_unique().alias("rows"))
                  .sort("rule"))
        return counts.with_columns(
            pl.col("rule").replace_strict({r.value: r.title for r in Rule}, default="").alias("title"))

    def by_event(self) -> pl.DataFrame:
        """Violations per eventName and severity."""
        import polars as pl

        return (self.violations.group_by("eventName")
                .agg((pl.col("severity") == "error").sum().alias("errors"),
                     (pl.col("severity") == "warning").sum().alias("warnings"),
                     pl.col("row").filter(pl.col("severity") == "error").n_unique().alias("invalid_rows"))
                .sort("errors", "warnings", descending=True))

    def rows_for(self, rule: str | Rule) -> list[int]:
        import polars as pl

        return sorted(set(self.violations.filter(pl.col("rule") == str(rule)).get_column("row").to_list()))

    def raise_for_errors(self) -> None:
        if not self.ok:
            first = self.errors.row(0, named=True)
            raise InvalidEvents(f"{self.invalid} of {self.rows} rows are invalid; first: row {first['row']} "
                                f"{first['rule']} {first['field']}: {first['message']}")

    # -- output ---------------------------------------------------------------------
    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        """Summary and violations as plain data; each `value` is the JSON value it was (`"12,900"`
        a string, `-500` a number, an object…), not the text the `violations` table shows."""
        v = self.violations if limit is None else self.violations.head(limit)
        dicts = v.to_dicts()
        for d, value in zip(dicts, self._json_values(v), strict=True):
            d["value"] = value
        out: dict[str, Any] = {"summary": self.summary(), "violations": dicts}
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def _json_values(self, v: pl.DataFrame) -> list[Any]:
        """The `value` of each violation as the JSON value it was. The table holds text: the JSON
        text of a wrongly typed value (a `__bad__` cell, an item's type error), the digits of a
        number, a string as it is; which one is known from the frame and the rule, never guessed
        from the text (a tx_id "123" stays a string)."""
        import polars as pl

        from adrop_kit.io.frames import BAD, ROW

        frame = self.frame if isinstance(self.frame, pl.DataFrame) else pl.DataFrame()  # a report without its rows
        bad: dict[str, set[int]] = {}
        for name in v.get_column("field").unique().to_list():
            if name and BAD + name in frame.columns and ROW in frame.columns:
                rows = frame.filter(pl.col(BAD + name).is_not_null()).get_column(ROW)
                bad[name] = set(rows.to_list())
        schema = frame.schema
        out: list[Any] = []
        for row, rule, fld, text, message in v.select("row", "rule", "field", "value", "message").iter_rows():
            if text is None or rule == "E001" or (text.endswith("…") and len(text) >= 80):
                out.append(text)  # a whole raw line, or a value shortened for the report: text
            elif row in bad.get(fld, ()) or (rule in ("E007", "E008") and ", got " in message):
                out.append(_parsed(text, text))
            elif rule in ("W103", "W105") or (fld in schema and (schema[fld].is_numeric()
                                                               or schema[fld] == pl.Boolean)):
                out.append(_parsed(text, text))  # a number (or boolean) column: its digits
            else:
                out.append(text)
        return out

    def to_json(self, *, limit: int | None = None, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(limit=limit), ensure_ascii=False, indent=indent)

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<DatasetReport {source_label(self.source, self.rows)}: {s['rows']} rows, {s['valid']} valid, "
                f"{s['invalid']} invalid, {s['warned']} warned>")

    def _repr_html_(self) -> str:
        s = self.summary()
        status = ("<b style='color:#1e8449'>every row is valid</b>" if self.ok else  # no emoji: not every font has it
                  f"<b style='color:#c0392b'>invalid rows</b>: {s['invalid']:,} of {s['rows']:,} would be rejected")
        cards = "".join(
            f"<div style='padding:6px 14px;border:1px solid #ddd;border-radius:6px;text-align:center'>"
            f"<div style='font-size:1.4em;font-weight:600'>{s[k]:,}</div><div style='color:#666'>{k}</div></div>"
            for k in ("rows", "valid", "invalid", "warned"))
        notes = "".join(f"<p style='color:#b9770e'>{html.escape(n)}</p>" for n in self.notes)
        head = (f"<div class='adrop-summary'><b>{html.escape(source_label(self.source, self.rows))}</b> — {status}"
                f"<div style='display:flex;gap:10px;margin:6px 0'>{cards}</div>{notes}</div>")
        rules = html_table(self.by_rule().select("rule", "severity", "violations", "rows", "title").rows(),
                            ("rule", "severity", "violations", "rows", "what it checks"))
        fail = html_table(self.violations.head(20).rows(), VIOLATION_COLUMNS)
        more = (f"<p style='color:#666'>first 20 of {self.violations.height:,} violations; "
                f"see <code>.violations</code> for all</p>" if self.violations.height > 20 else "")
        return head + ("<h4>By rule</h4>" + rules + "<h4>Violations</h4>" + fail + more
                       if self.violations.height else "")


def _parsed(text: str, default: Any) -> Any:
    """JSON text as its value (integers exact); `default` when it is not JSON or not finite
    (NaN and Infinity have no JSON form)."""
    import math

    from adrop_kit.io.values import loads_exact

    try:
        value = loads_exact(text)
    except ValueError:
        return default
    return default if isinstance(value, float) and not math.isfinite(value) else value
