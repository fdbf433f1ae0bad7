"""The native lane of the JSONL reader: the lines that are plainly well-typed, read by polars.

`read_json.read_jsonl` splits a file into three kinds of lines: blank lines (not events), *plain*
lines, read here in native code, and every other line, read one by one by the precise path
(`read_json.parse_row`, orjson). A line is plain only when reading it natively cannot change a
value or a verdict; that is proven line by line, never assumed:

- the whole line matches one strict grammar (a Rust regex, built from the catalog and from the
  keys a sample of the file holds): a JSON object whose members each have a key of the schema
  and a value of that key's JSON type (a string for a string parameter, `true`/`false` for a
  boolean, a number token of the key's *class* for a number, `items` an array of flat objects);
  no escape sequence (so no lone surrogate and no quote inside a string), no control character,
  no `null` at the top level, no exponent, integers of at most 15 digits (exact in a float), no
  `-0`; at most `MAX_EVENT_BYTES // 2` bytes, valid UTF-8;
- no key twice (orjson keeps the last value, polars the first) and no key outside the schema
  (polars would drop it): the number of `":` in the line (each is the end of a key, since a
  string holds no quote) equals the number of values polars found plus the keys inside `items`;
- `items` is kept as JSON text, as the precise path keeps it: the array's text in the line, parsed
  and written again by the same functions (orjson, `values.exact_json`), so spacing, `1.50` or a
  key given twice in an item come out as the precise path writes them; an array whose objects
  could hold more than MAX_KEYS keys goes to the precise path.

A number key has one class per file, taken from the sample: `int` (integer tokens, read as Int64)
or `float` (tokens with a fraction, Float64); a line whose token is of the other class goes to the
precise path, and `merge_lanes` gives the merged column the type the precise path would give
the whole file (`io.frames`). Keys outside the catalog are in the schema when the sample shows
them with one JSON type (string, boolean, integer or fraction) and a plain name.
"""

from __future__ import annotations

import codecs
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa

from adrop_kit.io.columns import EXACT
from adrop_kit.io.frames import ERROR, RAW, ROW, key_types
from adrop_kit.io.values import exact_json
from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.spec.rules import MAX_EVENT_BYTES, MAX_KEYS

SAMPLE_LINES = 2000
"""Lines read with orjson to learn the keys outside the catalog and each number key's class."""
MAX_EXTRA_KEYS = 64
"""Keys outside the catalog the native lane knows at most (more: their lines take the precise path)."""
PART_BYTES = 8 << 20
"""From this many bytes per part on, the lines are cut into parts read in threads (one per core)."""
MAX_PARTS = 8
MAX_PLAIN_BYTES = MAX_EVENT_BYTES // 2  # longer lines take the precise path (the size rule: validate.size)

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # keys the grammar names literally (escaped below)
_W = r"[ \t]*"
_STR = r'"[^"\\\x00-\x1f]*"'
_INT = r"(?:0|-?[1-9][0-9]{0,14})"
_FLOAT = r"(?:(?:0|-?[1-9][0-9]{0,14})\.[0-9]{1,15}|-0\.[0-9]{0,14}[1-9])"  # no -0.0: its sign matters
_ITEM_SCALAR = rf"(?:{_STR}|-?(?:0|[1-9][0-9]{{0,14}})(?:\.[0-9]{{1,15}})?|true|false|null)"
_ITEM_OBJECT = rf"\{{{_W}(?:{_STR}:{_W}{_ITEM_SCALAR}(?:{_W},{_W}{_STR}:{_W}{_ITEM_SCALAR})*)?{_W}\}}"
_ITEMS = rf"\[{_W}(?:{_ITEM_OBJECT}(?:{_W},{_W}{_ITEM_OBJECT})*)?{_W}\]"
_VALUE = {"string": _STR, "boolean": "(?:true|false)", "int": _INT, "float": _FLOAT, "items": _ITEMS}
_DTYPE = {"string": pl.String, "boolean": pl.Boolean, "int": pl.Int64, "float": pl.Float64}
_BLANK = r"^[ \t\n\r\x0b\x0c]*$"  # bytes.isspace(): what read_json calls a blank line


@dataclass
class Plan:
    """The native lane's schema for one file: each key's class (string, boolean, int, float, items)."""

    classes: dict[str, str]
    extras: set[str] = field(default_factory=set)

    def grammar(self) -> str:
        groups: dict[str, list[str]] = {}
        for key, cls in self.classes.items():
            groups.setdefault(cls, []).append(re.escape(key))
        members = [f'"(?:{"|".join(sorted(keys))})":{_W}{_VALUE[cls]}' for cls, keys in groups.items()]
        member = "(?:" + "|".join(members) + ")"
        return rf"^{_W}\{{{_W}{member}(?:{_W},{_W}{member})*{_W}\}}[ \t\r\n]*$"

    def schema(self) -> dict[str, pl.DataType]:
        return {k: _DTYPE[c] for k, c in self.classes.items() if c != "items"}


def _kind(value: Any) -> str | None:
    t = type(value)
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is int:
        return "int" if -(10**15) < value < 10**15 else None
    if t is float:
        return "float"
    return None


def plan(lines: list[bytes], catalog: Catalog) -> Plan:
    """The schema of the native lane, from the catalog and a sample of the file's lines."""
    types = key_types(catalog)
    seen: dict[str, set[str | None]] = {}
    for line in lines:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict:
            for k, v in value.items():
                if v is not None:
                    seen.setdefault(k, set()).add(_kind(v))
    classes: dict[str, str] = {}
    for key, ptype in types.items():
        if not _NAME.fullmatch(key):
            continue
        if ptype in ("number", "integer"):
            kinds = seen.get(key, set())
            classes[key] = "int" if kinds == {"int"} or (not kinds and ptype == "integer") else "float"
        else:
            classes[key] = ptype
    extras = set()
    for key, kinds in seen.items():
        if key in types or key.startswith("__") or not _NAME.fullmatch(key) or len(kinds) != 1 or None in kinds:
            continue
        if len(extras) < MAX_EXTRA_KEYS:
            extras.add(key)
            classes[key] = next(iter(kinds))  # type: ignore[arg-type]
    return Plan(classes, extras)


@dataclass
class Lines:
    """A file cut into lines (each with its line end), as one Arrow array over the file's bytes."""

    data: bytes
    offsets: np.ndarray  # line i is data[offsets[i]:offsets[i + 1]]

    @classmethod
    def of(cls, data: bytes) -> Lines:
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
        offsets = np.empty(len(ends) + 2, np.int64)
        offsets[0], offsets[1:-1], offsets[-1] = 0, ends + 1, len(data)
        if offsets[-2] == len(data):  # a final line end: no empty line after it
            offsets = offsets[:-1]
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def line(self, i: int) -> bytes:
        return self.data[self.offsets[i]:self.offsets[i + 1]].rstrip(b"\n")

    def binary(self, lo: int = 0, hi: int | None = None) -> pl.Series:
        """Lines lo..hi (all by default) as a Binary series over the file's bytes (no copy)."""
        hi = len(self) if hi is None else hi
        offsets = self.offsets[lo:hi + 1]
        arr = pa.LargeBinaryArray.from_buffers(pa.large_binary(), hi - lo,
                                               [None, pa.py_buffer(offsets), pa.py_buffer(self.data)])
        return pl.Series(pl.from_arrow(arr))


_noted = threading.local()


def _note(exc: UnicodeError) -> tuple[str, int]:
    _noted.where.append(exc.start)  # type: ignore[attr-defined]
    return "\ufffd", exc.end  # type: ignore[attr-defined]


codecs.register_error("adrop_kit.note", _note)


def _invalid_utf8_lines(lines: Lines, lo: int, hi: int) -> np.ndarray:
    """Indices (from lo) of the lines lo..hi that hold bytes that are not UTF-8 (one pass, in C)."""
    _noted.where = []
    start = int(lines.offsets[lo])
    lines.data[start:int(lines.offsets[hi])].decode("utf-8", "adrop_kit.note")
    at = np.array(_noted.where, np.int64) + start
    return np.unique(np.searchsorted(lines.offsets[lo:hi + 1], at, side="right") - 1)


@dataclass
class Split:
    """Which lines the native lane read (`frame`, in line order) and which it left to the precise path."""

    frame: pl.DataFrame  # __row, __error, __raw and the plan's columns, for the plain lines
    slow: list[int]  # line numbers of the non-blank lines left to the precise path


def _parts(lines: Lines) -> list[tuple[int, int]]:
    """Ranges of lines read side by side in threads (polars reads one text on one core): one per
    core from PART_BYTES on, so a small input stays on one thread."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    k = max(1, min(cores, MAX_PARTS, len(lines.data) // PART_BYTES, len(lines)))
    bounds = np.linspace(0, len(lines), k + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def native_lane(lines: Lines, catalog: Catalog, *, mostly_slow: float = 1.0) -> Split | None:
    """Read the plain lines natively (see the module docstring); name the others. None, before
    the file is read, when more than `mostly_slow` of the sample's lines are not plain."""
    sample, i = [], 0
    while len(sample) < SAMPLE_LINES and i < len(lines):
        if (line := lines.line(i)).strip():
            sample.append(line)  # a line orjson refuses (not UTF-8, not JSON) teaches nothing: `plan` skips it
        i += 1
    p = plan(sample, catalog)
    if mostly_slow < 1.0 and sample and len(_part(lines, 0, i, p)[1]) > mostly_slow * len(sample):
        return None
    parts = _parts(lines)
    if len(parts) == 1:
        done = [_part(lines, *parts[0], p)]
    else:
        with ThreadPoolExecutor(len(parts)) as pool:  # polars releases the GIL: the parts run at once
            done = list(pool.map(lambda r: _part(lines, *r, p), parts))
    frame = pl.concat([f for f, _ in done], how="diagonal_relaxed") if len(done) > 1 else done[0][0]
    return Split(_finish(frame, p, catalog), [n for _, slow in done for n in slow])


def _part(lines: Lines, lo: int, hi: int, p: Plan) -> tuple[pl.DataFrame, list[int]]:
    """The plain lines of lines lo..hi read natively (a frame) and the numbers of the others."""
    raw = lines.binary(lo, hi)
    forced = np.zeros(hi - lo, bool)
    try:
        text = raw.cast(pl.String)
    except pl.exceptions.ComputeError:  # some line is not UTF-8: it takes the precise path
        forced[_invalid_utf8_lines(lines, lo, hi)] = True
        text = pl.select(pl.when(pl.Series(forced)).then(pl.lit(b"", pl.Binary)).otherwise(raw)).to_series()
        text = text.cast(pl.String)
    df = pl.DataFrame({"t": text, "forced": forced}).with_columns(
        pl.int_range(lo, hi, dtype=pl.Int64).alias(ROW))
    df = df.with_columns(
        blank=~pl.col("forced") & pl.col("t").str.contains(_BLANK),
        plain=~pl.col("forced") & (pl.col("t").str.len_bytes() <= MAX_PLAIN_BYTES)
        & pl.col("t").str.contains(p.grammar()))
    plain = df.filter("plain").select(ROW, "t")
    mask = df.get_column("plain").to_numpy()
    body = lines.data[int(lines.offsets[lo]):int(lines.offsets[hi])] if mask.all() else _selected(raw, mask)
    fast = _decode(plain, p, body)
    keep = fast.get_column("__ok")
    slow = df.filter(~pl.col("blank") & ~pl.col("plain")).get_column(ROW)
    if not keep.all():
        slow = pl.concat([slow, fast.filter(~keep).get_column(ROW)]).sort()
    frame = fast.filter(keep).drop("__ok").with_columns(pl.lit(None, pl.String).alias(ERROR),
                                                         pl.lit(None, pl.String).alias(RAW))
    return frame, slow.to_list()


def _selected(raw: pl.Series, mask: np.ndarray) -> bytes:
    """The bytes of the selected lines, one after the other (each keeps its line end)."""
    sel = raw.to_arrow().filter(pa.array(mask))
    if not len(sel):
        return b""
    offsets = np.frombuffer(sel.buffers()[1], np.int64)[sel.offset:sel.offset + len(sel) + 1]
    return sel.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]


def _decode(plain: pl.DataFrame, p: Plan, body: bytes) -> pl.DataFrame:
    """polars reads the plain lines; `__ok` says whether the line's keys were read one for one."""
    schema = p.schema()
    if plain.height:
        values = pl.read_ndjson(body, schema=schema)
        if values.height != plain.height:
            raise pl.exceptions.ComputeError("the plain lines were read as a different number of rows")
    else:
        values = pl.DataFrame(schema=schema)
    keys = plain.get_column("t").str.count_matches('":', literal=True)
    found = values.select(pl.sum_horizontal(pl.all().is_not_null().cast(pl.UInt32))).to_series() \
        if values.width else pl.zeros(plain.height, pl.UInt32, eager=True)
    out = pl.concat([plain.select(ROW), values], how="horizontal")
    if ITEMS in p.classes:
        t = plain.get_column("t")
        has = t.str.contains(f'"{ITEMS}":', literal=True)
        where = has.arg_true()  # the regex runs only on the lines that hold items
        texts = _canonical(t.gather(where).str.extract(rf'"{ITEMS}":{_W}({_ITEMS})'))
        items = pl.Series(ITEMS, [None] * len(t), pl.String).scatter(where, texts) if len(where) else \
            pl.Series(ITEMS, [None] * len(t), pl.String)
        inner = items.str.count_matches('":', literal=True).fill_null(0)
        found = found + has.cast(pl.UInt32) + inner.cast(pl.UInt32)
        ok = (keys == found) & (inner <= MAX_KEYS)  # an item object cannot have more than MAX_KEYS keys
        out = out.with_columns(items.alias(ITEMS))
    else:
        ok = keys == found
    return out.with_columns(ok.alias("__ok"))


def _canonical(texts: pl.Series) -> pl.Series:
    """Each array's text as the precise path writes it (`values.exact_json` of the parsed value:
    no spaces, `1.50` as `1.5`, a key given twice once). Only the lines with items pay this."""
    loads = orjson.loads
    return pl.Series(texts.name, [None if t is None else exact_json(loads(t)) for t in texts.to_list()], pl.String)


def _finish(frame: pl.DataFrame, p: Plan, catalog: Catalog) -> pl.DataFrame:
    """The native lane's columns as the precise path types them: an integral float of an integer
    parameter keeps its text ("3.0") in `__exact__<key>`."""
    types = key_types(catalog)
    values = [c for c in frame.columns if c in p.classes]
    if values:  # a key no plain line holds has no column (the precise path makes one only for keys it met)
        absent = [c for c, n in zip(values, frame.select(pl.col(values).null_count()).row(0), strict=True)
                  if n == frame.height]
        frame = frame.drop(absent)
    exprs = []
    for key, cls in p.classes.items():
        if cls == "float" and types.get(key) == "integer" and key in frame.columns:
            v = pl.col(key)
            exprs.append(pl.when(v.round(0) == v).then(v.cast(pl.Int64).cast(pl.String) + ".0").alias(EXACT + key))
    return frame.with_columns(exprs) if exprs else frame


__all__ = ["Lines", "Plan", "Split", "native_lane", "plan"]
