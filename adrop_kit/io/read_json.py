"""JSONL/NDJSON and JSON-array files → a canonical `Frame`, one judgment per row.

A row is a JSONL line or an element of a JSON array, and both are judged by `parse_row`: JSON
that orjson refuses but that is still JSON is kept (NaN/Infinity become type errors where they
sit, 1e400 is kept and judged, a lone surrogate escape makes its row E001 downstream); text that
is not JSON, not valid UTF-8, or nested deeper than the limits (before any parser can recurse
on it) makes that row an E001 row. Nothing else in the file changes a row's verdict. A row
that may hold an integer beyond 64 bits (a run of 19 digits, found by `long_digit_runs`) is
read by the json module, which keeps it exact (orjson would make it a float); so is a row that may
hold a number orjson would write otherwise (`1E2`, `200.00`, `-0`, `1e400`: `io.numbers`), kept as
the token it is, to go out as written.

JSONL: rows are named by their 0-based line number; blank lines are not events; a line longer than `READ_BOUND`
is an E001 row (SIZE_MESSAGE) without being parsed; whether a shorter one's event is over 64 KiB is judged on
the payload it would send (`validate.size`), as for every input. Big files read two lanes (`_read_two_lanes`).

JSON: a file of one JSON object per line (newline-delimited JSON saved as `.json`, as BigQuery,
mongoexport and Firehose write it) is read as JSONL. Otherwise a top-level array is read whole by
orjson when it can; when orjson refuses the file (a NaN, 1e400, a lone surrogate, deep nesting or a
broken element anywhere), it is read element by element and only the elements that need it are
judged E001. Rows are named by their position
in the array. A top-level object is one event; any other top-level value, or a file that is
not JSON at all, is a DataReadError. A broken element ends where its brackets balance (at the
next ',' or ']' of the array); text after the closing ']' is one more E001 row; empty slots
(`[a,,b]`, a trailing comma) are not events.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson
import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.frames import LINE, MAX_REPR, ROW, Frame, from_records
from adrop_kit.io.importers.detect import export_hint
from adrop_kit.io.jsonl_fast import native_lane, null_columns
from adrop_kit.io.jsontext import too_deep
from adrop_kit.io.lanes import Evict, evictions, fast_counts, holding, merge_lanes
from adrop_kit.io.lines import FileBytes, Lines
from adrop_kit.io.numbers import LONG_DIGITS, loads_tokens, long_digit_runs, may_hold_tokens, token_lines
from adrop_kit.io.source import READ_BOUND
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import DEPTH_MESSAGE, MAX_KEYS, SIZE_MESSAGE, json_kind

_WS = re.compile(r"[ \t\n\r]*")
_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*"|"[^\n]*|[\[\]{},]')  # strings (one line at most), brackets, commas
_NOT_JSON = "is not valid JSON"


def raw_text(raw: bytes | str) -> str:
    """What an E001 row shows of its text: the start of it, decoded leniently."""
    if isinstance(raw, str):
        raw = raw[: MAX_REPR * 2].encode("utf-8", "surrogatepass")  # lone surrogates (undecodable bytes) too
    return raw[: MAX_REPR * 4].decode("utf-8", "replace")


def parse_row(raw: bytes, where: str, *, exact: bool = False) -> tuple[Any, str | None]:
    """One row's JSON text → (value, None), or (None, why it is an E001 row). Never raises.
    `where` names the row in messages ("line 3", "element 7"); `exact`: the text may hold an
    integer beyond 64 bits or a number orjson would write otherwise (`1E2`, `200.00`), so it is read
    by the json module, keeping them as written (`io.numbers.loads_tokens`)."""
    reason = None
    if not exact:
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError as exc:
            reason = str(exc)
    if too_deep(raw):  # orjson stops at 1,024 levels; the json module would recurse
        return None, DEPTH_MESSAGE
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"{where} is not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1:,})"
    if "\x00" in text:
        return None, f"{where} holds a NUL byte (binary data), not JSON"
    try:  # still JSON: NaN/Infinity (type errors where they sit), 1e400, lone surrogate escapes
        return loads_tokens(text), None
    except RecursionError:
        return None, DEPTH_MESSAGE
    except ValueError as exc:
        return None, f"{where} {_NOT_JSON} ({reason or exc})"


NATIVE_FROM = 1 << 20  # from this many bytes on, JSONL takes the native lane (`io.jsonl_fast`) for its plain lines
MOSTLY_SLOW = 0.25
"""More than this share of the sample's lines not plain: every line is read precisely (as quick)."""


def read_jsonl(data: FileBytes, source: str, catalog: Catalog, *, ordered: bool = True) -> Frame:
    """JSONL bytes (or a mapped file: `source.map_file`) → a canonical frame; rows are 0-based line numbers.
    Big inputs read their plain lines natively (`io.jsonl_fast`), the rest line by line (`parse_row`): the
    frame the line-by-line path alone would build (`io.lanes`). `__line` is the 1-based line. `ordered=False`:
    the rows may come in another order (`__row` says theirs; `frames.in_order`)."""
    frame = _read_two_lanes(data, source, catalog, ordered=ordered) if len(data) >= NATIVE_FROM else None
    if frame is None:
        data = bytes(data)  # (the line-by-line path splits bytes, not a mapped file; bytes are not copied)
        exact = token_lines(data)
        pairs = ((n, line) for n, line in enumerate(data.split(b"\n")) if line and not line.isspace())
        records, rows, errors = _parse_lines(pairs, exact)
        frame = from_records(records, catalog, errors=errors, rows=rows, source=source)
    frame.df = frame.df.with_columns((frame.df.get_column(ROW) + 1).alias(LINE))  # rows are 0-based line numbers
    return frame


def _read_two_lanes(data: FileBytes, source: str, catalog: Catalog, *, ordered: bool = True) -> Frame | None:
    """The native lane for the plain lines, `parse_row` for the others; None when the sample
    shows mostly irregular lines (then one precise pass is as quick) or polars refused a line it
    should not have. A key the lanes cannot merge moves its native rows to the precise lane
    (`io.lanes`): the extra cost is those lines, never the file."""
    lines = Lines.of(data)
    slow_lane = _SlowLane(lines)
    parsed: list[Future[Parsed]] = []
    with ThreadPoolExecutor(1) as parser:  # the precise path starts on a part's refused lines while polars reads
        try:
            split = native_lane(lines, catalog, mostly_slow=MOSTLY_SLOW,
                                early=lambda numbers: parsed.append(parser.submit(slow_lane.parse, numbers)))
        except pl.exceptions.PolarsError:  # a safety net: the grammar should keep polars from refusing a line
            return None
        if split is None:
            return None
        for done in parsed:
            slow_lane.merge(*done.result())
    fast, early = split.frame, set(slow_lane.rows)
    slow_lane.merge(*slow_lane.parse([n for n in split.slow if n not in early]))
    while True:
        slow_ok, slow_counts = slow_lane.counts()
        merged: pl.DataFrame | Evict | None = evictions(fast, catalog, slow_ok=slow_ok, slow_counts=slow_counts)
        if merged is None:
            beside = (fast_counts(fast), fast.height)
            slow = from_records(list(slow_lane.records), catalog, errors=slow_lane.errors, rows=slow_lane.rows,
                                source=source, beside=beside)
            merged = merge_lanes(fast, slow.df, catalog, ordered=ordered)
        if isinstance(merged, pl.DataFrame):
            return Frame(merged, source)
        held = holding(fast, merged.keys)
        if not held.any():  # a safety net: every key named is held by some native row
            return None
        slow_lane.merge(*slow_lane.parse(fast.get_column(ROW).filter(held).to_list()))
        fast = null_columns(fast.filter(~held), catalog)  # a key none of its rows holds any more: no column


Parsed = tuple[list[Any], list[int], dict[int, tuple[str, str]]]  # records, line numbers, E001 (message, raw)


class _SlowLane:
    """The lines read by the precise path, in line order: records, line numbers, E001 messages."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.records: list[Any] = []
        self.rows: list[int] = []
        self.errors: dict[int, tuple[str, str]] = {}

    def parse(self, numbers: list[int]) -> Parsed:
        """Lines (by number) parsed, as `_parse_lines` gives them; nothing is kept (any thread may call it)."""
        pairs = [(n, self.lines.line(n)) for n in numbers]
        exact = token_lines(b"\n".join(line for _, line in pairs))  # found at once, as in a file
        return _parse_lines(pairs, {pairs[i][0] for i in exact})

    def merge(self, records: list[Any], rows: list[int], errors: dict[int, tuple[str, str]]) -> None:
        """Parsed lines joined to those held, in line order."""
        if not self.rows:
            self.records, self.rows, self.errors = records, rows, errors
            return
        order = sorted([(r, i, False) for i, r in enumerate(self.rows)] + [(r, i, True) for i, r in enumerate(rows)])
        out_records: list[Any] = []
        out_errors: dict[int, tuple[str, str]] = {}
        for pos, (_, i, added) in enumerate(order):
            out_records.append(records[i] if added else self.records[i])
            if (e := (errors if added else self.errors).get(i)) is not None:
                out_errors[pos] = e
        self.records, self.rows, self.errors = out_records, [r for r, _, _ in order], out_errors

    def counts(self) -> tuple[int, dict[str, int]]:
        """Objects among the records (as from_records counts them: not E001; keys counted within MAX_KEYS) and
        how many of them hold each key."""
        ok = 0
        counts: Counter[str] = Counter()
        for i, r in enumerate(self.records):
            if type(r) is dict:
                if len(r) <= MAX_KEYS:
                    counts.update(r.keys())
                ok += i not in self.errors
        return ok, dict(counts)


def _parse_lines(pairs: Iterable[tuple[int, bytes]], exact: set[int]
                 ) -> tuple[list[Any], list[int], dict[int, tuple[str, str]]]:
    """(line number, text) pairs of non-blank lines → records, their rows, and E001 rows' (message, raw)."""
    records: list[Any] = []
    rows: list[int] = []
    errors: dict[int, tuple[str, str]] = {}
    loads = orjson.loads
    for lineno, line in pairs:
        rows.append(lineno)
        if len(line) > READ_BOUND:
            errors[len(records)] = (SIZE_MESSAGE, raw_text(line))
            records.append(None)
            continue
        if lineno not in exact:
            try:
                value = loads(line)
            except orjson.JSONDecodeError:
                pass
            else:
                records.append(value)
                continue
        value, problem = parse_row(line, f"line {lineno + 1}", exact=lineno in exact)
        if problem is not None:
            errors[len(records)] = (problem, raw_text(line))
        records.append(value)
    return records, rows, errors


def read_json(data: bytes, source: str, catalog: Catalog, *, ordered: bool = True) -> Frame:
    if newline_delimited(data):  # one event per line saved as .json (BigQuery, mongoexport, Firehose)
        return read_jsonl(data, source, catalog, ordered=ordered)
    try:
        if long_digit_runs(data) or may_hold_tokens(data):  # integers beyond 64 bits, numbers kept as written
            value = loads_tokens(data)
        else:
            value = orjson.loads(data)
    except (ValueError, RecursionError):  # orjson's error is a ValueError too
        return _read_json_slowly(data, source, catalog)
    if type(value) is list:
        return from_records(value, catalog, source=source)
    if type(value) is dict:
        return from_records([value], catalog, source=source)
    raise DataReadError(_not_a_dataset(source, value))


def newline_delimited(data: bytes) -> bool:
    """Whether a .json file holds one JSON object per line (read as JSONL, rows named by line, so a
    broken line is its own E001 row) rather than one document: it starts with `{`, and its first or
    second non-blank line is a whole object on its own (a pretty-printed document has neither)."""
    lines: list[bytes] = []
    pos = len(data) - len(data.lstrip())
    if data[pos:pos + 1] != b"{":
        return False
    while len(lines) < 2 and pos < len(data):
        end = data.find(b"\n", pos, pos + READ_BOUND)
        if end < 0:
            end = len(data) if len(data) - pos <= READ_BOUND else pos + READ_BOUND
        if line := data[pos:end].strip():
            lines.append(line)
        pos = end + 1
    if len(lines) < 2:  # one line: one event, read as a document
        return False
    for line in lines:
        try:
            if type(orjson.loads(line)) is dict:
                return True
        except orjson.JSONDecodeError:
            continue
    return False


def _not_a_dataset(source: str, value: Any) -> str:
    return f"{source}: expected a JSON array of events (or one event object), got {json_kind(value)}"


def _export_hint(data: bytes) -> str:
    """`; this looks like a GA4 export …` when the first line is a row of an export (BigQuery writes
    newline-delimited JSON as .json), else nothing."""
    try:
        first = orjson.loads(data[:data.find(b"\n")] if b"\n" in data else data)
    except orjson.JSONDecodeError:
        return ""
    hint = export_hint(first) if isinstance(first, dict) else None
    return f"; {hint}" if hint else ""


def _read_json_slowly(data: bytes, source: str, catalog: Catalog) -> Frame:
    """orjson refused the file: element by element, each judged by `parse_row`."""
    text = data.decode("utf-8", "surrogateescape")  # invalid bytes survive, and come back by encoding
    pos = _WS.match(text).end()
    if not text.startswith("[", pos):
        value, problem = parse_row(data, "the file", exact=LONG_DIGITS.search(data) is not None
                                   or may_hold_tokens(data))
        if problem is None:
            if type(value) is dict:
                return from_records([value], catalog, source=source)
            raise DataReadError(_not_a_dataset(source, value))
        if text.startswith("{", pos) and _NOT_JSON not in problem:  # one event, too deep or not UTF-8
            return from_records([None], catalog, errors={0: (problem, raw_text(data))}, source=source)
        reason = problem.partition(f"{_NOT_JSON} (")[2][:-1] or problem
        raise DataReadError(f"{source}: not valid JSON ({reason}); a .json file holds an array of events, one "
                            "event, or one event per line (`jq -c` writes them so)"
                            + _export_hint(data))
    records: list[Any] = []
    errors: dict[int, tuple[str, str]] = {}
    decoder = json.JSONDecoder()
    n = len(text)
    pos = _WS.match(text, pos + 1).end()
    while pos < n and text[pos] != "]":
        if text[pos] == ",":  # an empty slot ([a,,b] or a leading comma): not an event
            pos = _WS.match(text, pos + 1).end()
            continue
        try:  # the C scanner finds where a well-formed element ends
            end = decoder.raw_decode(text, pos)[1]
            after = _WS.match(text, end).end()
            if after < n and text[after] not in ",]":  # more text glued to it: judged with it, as one row
                raise ValueError
        except (ValueError, RecursionError):
            end = max(_element_end(text, pos), pos + 1)  # broken: up to the array's next ',' or ']'
        i = len(records)
        raw = text[pos:end].encode("utf-8", "surrogateescape")
        value, problem = parse_row(raw, f"element {i}", exact=LONG_DIGITS.search(raw) is not None
                                   or may_hold_tokens(raw))
        if problem is not None:
            errors[i] = (problem, raw_text(raw))
        records.append(value)
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
    if pos < n:  # the closing bracket; the file ends there (or an array left open at the end of the file)
        rest = _WS.match(text, pos + 1).end()
        if rest < n:
            errors[len(records)] = ("text after the end of the JSON array", raw_text(text[rest:]))
            records.append(None)
    return from_records(records, catalog, errors=errors, source=source)


def _element_end(text: str, pos: int) -> int:
    """Where a broken element that starts at `pos` ends: at the ',' or ']' of the array that follows
    it once its own brackets are closed (strings skipped; a closer pairs with the nearest opener of
    its kind, so `[1,2}` closes both). Iterative and linear, whatever the nesting."""
    stack: list[str] = []
    open_count = {"[": 0, "{": 0}
    for m in _SCAN.finditer(text, pos):
        c = m.group()[0]
        if c in "[{":
            stack.append(c)
            open_count[c] += 1
        elif c in "]}":
            want = "[" if c == "]" else "{"
            if open_count[want]:
                while (top := stack.pop()) != want:
                    open_count[top] -= 1
                open_count[want] -= 1
            elif c == "]":
                return m.start()  # the array's own closing bracket
        elif c == "," and not stack:
            return m.start()
    return len(text)


__all__ = ["newline_delimited", "parse_row", "raw_text", "read_json", "read_jsonl"]
