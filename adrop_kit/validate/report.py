"""Reports: `EventReport` for one payload, `DatasetReport` for a dataset.

Reports are data; they never raise unless asked (`raise_for_errors`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from adrop_kit.errors import InvalidEvents
from adrop_kit.spec.rules import Rule, Violation
from adrop_kit.support.html import html_table
from adrop_kit.support.labels import count_of, source_label

if TYPE_CHECKING:
    import polars as pl


REPR_LINES = 5
"""The violations a DatasetReport's repr lists (pytest prints it for `assert report.ok, report`)."""
VIOLATION_COLUMNS = ("source", "row", "line", "eventName", "rule", "severity", "field", "value", "message")


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

    def __repr__(self) -> str:  # what `assert report.ok, report` prints in pytest: the verdict, not the dataclass
        head = f"<EventReport: {count_of(len(self.errors), 'error')}, {count_of(len(self.warnings), 'warning')}>"
        return head if not self.violations else f"{head}\n{self}"


@dataclass
class StreamTotals:
    """The counts of a streamed run whose violations went to a file (`violations_out`), kept as it
    ran: the report then holds only the first violations, and these stand for all of them."""

    invalid: int
    warned: int
    violations: int
    by_rule: pl.DataFrame
    by_event: pl.DataFrame
    by_name: pl.DataFrame | None = None
    """(rule, eventName, rows) of the W110 and W101 rows without an error (`validate.custom`)."""


@dataclass
class DatasetReport:
    """The verdict on a dataset.

    rows = valid + invalid; `warned` counts valid rows that carry at least one warning.
    `violations` is a polars DataFrame with one row per broken rule
    (source, row, line, eventName, rule, severity, field, value, message), ordered by source then row:
    `source` names the file a row comes from (the input's label for a single input), `row` its
    position in that file, `line` the 1-based line the row starts on in a text file (JSONL, CSV as
    an editor shows it; null for other inputs). Tables, JSON and HTML show `source` only when there
    is more than one.

    A streamed report (`validate_events(path, batch_bytes=…)`, a directory, a glob, the CLI) holds
    no `frame` (the rows were checked batch by batch and let go); with `violations_out=` the
    violations are in that file and `violations` holds only the first `HELD` of them (`totals`
    keeps the exact counts). Its `valid_rows` / `invalid_rows` read the input again when asked;
    `valid_out=` / `invalid_out=` write them to files as the batches pass.
    """

    rows: int
    violations: pl.DataFrame
    frame: pl.DataFrame | None = field(default=None, repr=False)
    source: str = "<data>"
    strict: bool = False
    elapsed_s: float = 0.0
    notes: tuple[str, ...] = ()
    """What the reader noticed about the whole input, said once (e.g. a CSV read as one column
    whose name holds semicolons: a hint to give the delimiter)."""
    sources: tuple[str, ...] = ()
    """The label of each file read, in order (one entry for a single input)."""
    skipped: tuple[str, ...] = ()
    """Files found beside the data and not read (`_SUCCESS`, `.crc`, hidden files, other formats),
    and files or directories reached again through another link (read once)."""
    unread: tuple[str, ...] = ()
    """`name: why` for each entry of the input that could not be read and was skipped
    (`skip_unreadable=True`, `--skip-unreadable`): its rows are not in this report."""
    linked: tuple[str, ...] = ()
    """`name -> target` for each link out of an input directory that was read (`follow_links=True`)."""
    violations_out: str | None = None
    totals: StreamTotals | None = field(default=None, repr=False)
    valid_out: str | None = None
    invalid_out: str | None = None
    """Where the valid and the invalid rows were written (`valid_out=`, `invalid_out=`), if asked."""
    _reread: Any = field(default=None, repr=False, compare=False)
    """A streamed report's way to read its rows again (`validate.rows.Reread`)."""
    _counted: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    """(invalid, warned) as the pipeline counted them batch by batch: millions not counted again."""
    _json: Any = field(default=None, repr=False)
    """Per violation, whether its `value` is JSON text (`validate.json_values`): set by a streamed
    run from each batch's rows; worked out from `frame` otherwise."""

    def __post_init__(self) -> None:
        import polars as pl

        from adrop_kit.validate.json_values import JSON_FLAG

        if JSON_FLAG in self.violations.columns:
            self._json = self.violations.get_column(JSON_FLAG)
            self.violations = self.violations.drop(JSON_FLAG)
        if not self.sources:
            self.sources = (self.source,)
        if "source" not in self.violations.columns:
            self.violations = self.violations.select(pl.lit(self.source, pl.String).alias("source"), pl.all())

    @property
    def multi(self) -> bool:
        """More than one file: rows are named by (source, row)."""
        return len(self.sources) > 1

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The violation columns tables show: `source` only when there is more than one."""
        return VIOLATION_COLUMNS if self.multi else VIOLATION_COLUMNS[1:]

    @property
    def violation_count(self) -> int:
        """Every violation found (more than `violations` holds when they went to `violations_out`)."""
        return self.totals.violations if self.totals is not None else self.violations.height

    # -- counts ---------------------------------------------------------------------
    @cached_property
    def _error_keys(self) -> pl.DataFrame:
        import polars as pl

        keys = self.violations.lazy().filter(pl.col("severity") == "error").select("source", "row")  # (lazy:
        return keys.unique().collect()  # only two columns are filtered, not the whole table)

    @cached_property
    def invalid_positions(self) -> Any:
        """Row numbers (positions in the input) with at least one error; with more than one source,
        a DataFrame of (source, row). Of a report whose violations went to a file: those held."""
        if self.multi:
            return self._error_keys.sort("source", "row")
        return self._error_keys.get_column("row").sort()

    @property
    def invalid(self) -> int:
        if self.totals is not None:
            return self.totals.invalid
        return self._counted[0] if self._counted is not None else self._error_keys.height

    @property
    def valid(self) -> int:
        return self.rows - self.invalid

    @cached_property
    def valid_rows(self) -> pl.DataFrame:
        """The rows that passed (warnings allowed), in input order, in your own columns with your
        values as they came in (`io.views.user_rows`: no `__` column; a column of mixed JSON types is
        text). Their positions are the rows not in `invalid_rows["row"]`. Built on first use; a
        streamed report reads its input again for them (see `rows`)."""
        return self.rows_of("valid")

    @cached_property
    def invalid_rows(self) -> pl.DataFrame:
        """The rows with at least one error, in input order: `row` (their position; `source` before
        it with several files), your columns with your values as they came in (`"12,900"` stays in
        `price`), and `raw`: what the reader kept of a row that is not an event (E001), else null.
        A column of yours named `row`, `source` or `raw` keeps its name; ours then starts with `_`."""
        return self.rows_of("invalid")

    def rows_of(self, which: Literal["valid", "invalid"] = "valid", *,
                form: Literal["values", "text", "json"] = "values", positions: bool | None = None) -> pl.DataFrame:
        """`valid_rows` or `invalid_rows` in `form`: "values" (typed columns), "text" (every cell as
        a CSV cell holds it: numbers as their exact text) or "json" (every cell its JSON text).
        `positions` (default: for the invalid rows) adds `row` (`source` before it with several
        files) first and `raw` last, as `invalid_rows` has them.
        A streamed report holds no rows: it reads its input again for them (not standard input, and
        at most `validate.rows.HOLD_ROWS`; `valid_out=`/`invalid_out=` write them as batches pass)."""
        from adrop_kit.io.views import held, input_columns, user_rows

        positions = which == "invalid" if positions is None else positions
        if self.frame is not None and (self.frame.width or not self.rows):  # in the input's columns (`held`)
            layout = held(input_columns(self.frame))
            return user_rows(self.canonical_rows(which), form=form, positions=positions, columns=layout)
        if self._reread is None:
            raise ValueError(f"this report on {self.source} holds no rows (on Spark: the SparkReport's "
                             "valid_rows); validate_events(..., valid_out=, invalid_out=) writes them to files")
        frames, sources, layout = self._reread(which, self.valid if which == "valid" else self.invalid)
        return user_rows(frames, form=form, positions=positions, source=sources if self.multi else None, columns=layout)

    def canonical_rows(self, which: Literal["valid", "invalid"] = "valid") -> pl.DataFrame:
        """The valid (or invalid) rows of an in-memory report in the reader's encoding (`io.frames`):
        what `to_payloads` and the `Sender` take. For your own use: `valid_rows` / `invalid_rows`."""
        import polars as pl

        from adrop_kit.io.frames import ROW, in_order

        if self.frame is None or (not self.frame.width and self.rows):  # streamed, or collected from Spark
            raise ValueError(f"this report on {self.source} was made batch by batch and holds no rows")
        hit = pl.col(ROW).is_in(self._error_keys.get_column("row").implode())
        return in_order(self.frame.filter(hit if which == "invalid" else ~hit))  # (a reader may leave them unsorted)

    @property
    def warned(self) -> int:
        if self.totals is not None or self._counted is not None:
            return self.totals.warned if self.totals is not None else self._counted[1]  # type: ignore[index]
        import polars as pl

        v = self.violations
        warn = v.lazy().filter(pl.col("severity") == "warning").select("source", "row").unique()
        return warn.join(self._error_keys.lazy(), on=["source", "row"], how="anti").select(pl.len()).collect().item()

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

        counts = self.totals.by_rule if self.totals is not None else rule_counts(self.violations)
        return counts.sort("rule").with_columns(
            pl.col("rule").replace_strict({r.value: r.title for r in Rule}, default="").alias("title"))

    def by_event(self) -> pl.DataFrame:
        """Violations per eventName and severity."""
        counts = self.totals.by_event if self.totals is not None else event_counts(self.violations)
        return counts.sort("errors", "warnings", descending=True)

    def event_notes(self) -> list[str]:
        """How many rows are near misses of a catalog event (W110) and how many go out as custom events
        (W101), with their most frequent names."""
        from adrop_kit.validate.custom import name_counts, name_notes

        by_name = self.totals.by_name if self.totals is not None else None
        return name_notes(name_counts(self.violations) if by_name is None else by_name)

    def rows_for(self, rule: str | Rule) -> list[Any]:
        """The rows breaking `rule` (with more than one source: (source, row) pairs)."""
        import polars as pl

        hit = self.violations.filter(pl.col("rule") == str(rule))
        if self.multi:
            return sorted(set(hit.select("source", "row").iter_rows()))
        return sorted(set(hit.get_column("row").to_list()))

    def raise_for_errors(self) -> None:
        if not self.ok:
            first = self.errors.row(0, named=True)
            where = f"{first['source']} row {first['row']}" if self.multi else f"row {first['row']}"
            raise InvalidEvents(f"{self.invalid} of {self.rows} rows are invalid; first: {where} "
                                f"{first['rule']} {first['field']}: {first['message']}")

    # -- output ---------------------------------------------------------------------
    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        """Summary and violations as plain data; each `value` is the JSON value it was (`"12,900"`
        a string, `-500` a number, an object…), not the text the `violations` table shows."""
        v = self.violations if limit is None else self.violations.head(limit)
        out: dict[str, Any] = {"summary": self.summary(), "violations": self._dicts(v)}
        if self.notes:
            out["notes"] = list(self.notes)
        if self.multi:
            out["sources"] = list(self.sources)
        for key in ("skipped", "unread", "linked"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.violations_out is not None:
            out["violations_out"] = self.violations_out
            out["violation_count"] = self.violation_count
        for key in ("valid_out", "invalid_out"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def iter_json(self, *, chunk: int = 10_000) -> Iterator[str]:
        """`to_json()`'s text in pieces, `chunk` violations at a time: a report of millions of
        violations is written out without building them all as Python objects at once."""
        whole = self.to_dict(limit=0)
        yield '{"summary": ' + json.dumps(whole.pop("summary"), ensure_ascii=False) + ', "violations": ['
        for start in range(0, self.violations.height, chunk):
            part = self._dicts(self.violations.slice(start, chunk), start)
            yield (", " if start else "") + ", ".join(json.dumps(v, ensure_ascii=False, default=str) for v in part)
        whole.pop("violations")
        yield "]" + "".join(f", {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, default=str)}"
                            for k, v in whole.items()) + "}"

    def _dicts(self, v: pl.DataFrame, offset: int = 0) -> list[dict[str, Any]]:
        """Violations `v` (rows `offset`… of `violations`) as dicts, each value the JSON value it was."""
        from adrop_kit.validate.json_values import json_flags, json_values

        flags = self._json.slice(offset, v.height) if self._json is not None else json_flags(v, self.frame)
        dicts = v.select(self.shown_columns).to_dicts()
        for d, value in zip(dicts, json_values(v, flags), strict=True):
            d["value"] = value
        return dicts

    def to_json(self, *, limit: int | None = None, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(limit=limit), ensure_ascii=False, indent=indent)

    def __repr__(self) -> str:  # what `assert report.ok, report` prints in pytest: counts and the first problems
        s = self.summary()
        head = (f"<DatasetReport {source_label(self.source, self.rows)}: {s['rows']} rows, {s['valid']} valid, "
                f"{s['invalid']} invalid, {s['warned']} warned>")
        shown = self.violations.head(REPR_LINES).rows(named=True) if self.violations is not None else []
        lines = [f"  row {v['row']}: {v['severity']} {v['rule']} {v['field'] or '(body)'}: {v['message']}"
                 for v in shown]
        more = self.violation_count - len(shown)
        return "\n".join([head, *lines, *([f"  … {count_of(more, 'more violation')}"] if more > 0 else [])])

    def _repr_html_(self) -> str:
        s = self.summary()
        status = ("<b style='color:#1e8449'>every row is valid</b>" if self.ok else  # no emoji: not every font has it
                  f"<b style='color:#c0392b'>invalid rows</b>: {s['invalid']:,} of {s['rows']:,} would be rejected")
        cards = "".join(
            f"<div style='padding:6px 14px;border:1px solid #ddd;border-radius:6px;text-align:center'>"
            f"<div style='font-size:1.4em;font-weight:600'>{s[k]:,}</div><div style='color:#666'>{k}</div></div>"
            for k in ("rows", "valid", "invalid", "warned"))
        notes = "".join(f"<p style='color:#b9770e'>{html.escape(n)}</p>" for n in (*self.notes, *self.event_notes()))
        head = (f"<div class='adrop-summary'><b>{html.escape(source_label(self.source, self.rows))}</b> — {status}"
                f"<div style='display:flex;gap:10px;margin:6px 0'>{cards}</div>{notes}</div>")
        rules = html_table(self.by_rule().select("rule", "severity", "violations", "rows", "title").rows(),
                            ("rule", "severity", "violations", "rows", "what it checks"))
        fail = html_table(self.violations.head(20).select(self.shown_columns).rows(), self.shown_columns)
        n = self.violation_count
        where = f"<code>{html.escape(self.violations_out or '.violations')}</code>"
        more = f"<p style='color:#666'>first 20 of {n:,} violations; see {where} for all</p>" if n > 20 else ""
        return head + ("<h4>By rule</h4>" + rules + "<h4>Violations</h4>" + fail + more if n else "")


def rule_counts(violations: pl.DataFrame) -> pl.DataFrame:
    """(rule, severity, violations, rows): a row is a distinct (source, row)."""
    import polars as pl

    return (violations.group_by("rule", "severity")
            .agg(pl.len().alias("violations"), pl.struct("source", "row").n_unique().cast(pl.UInt32).alias("rows")))


def event_counts(violations: pl.DataFrame) -> pl.DataFrame:
    """(eventName, errors, warnings, invalid_rows) per event name."""
    import polars as pl

    err = pl.col("severity") == "error"
    return (violations.group_by("eventName")
            .agg(err.sum().alias("errors"), (pl.col("severity") == "warning").sum().alias("warnings"),
                 pl.struct("source", "row").filter(err).n_unique().cast(pl.UInt32).alias("invalid_rows")))
