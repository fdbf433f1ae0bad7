"""The native lane of the JSONL reader: the lines that are plainly well-typed, read by polars.

`read_json.read_jsonl` splits a file into three kinds of lines: blank lines (not events), *plain*
lines, read here in native code, and every other line, read one by one by the precise path
(`read_json.parse_row`, orjson). A line is plain only when reading it natively cannot change a
value or a verdict; that is proven line by line, never assumed:

- the whole line matches one strict grammar (`io.jsonl_plan`, a Rust regex built from the catalog
  and from the keys a sample of the file holds): a JSON object whose members each have a key of
  the schema and a value of that key's JSON type or `null` (a string for a string parameter,
  `true`/`false` for a boolean, a number token of the key's *class* for a number, `items` an array
  of flat objects); escapes only those polars decodes as orjson does (no lone surrogate, no
  `\\u0000`-`\\u001f`), no raw control character, no exponent, integers of at most 15 digits
  (exact in a float), no `-0`; at most `MAX_EVENT_BYTES // 2` bytes, valid UTF-8; and no number
  orjson would write otherwise (`1.50`, 16 digits or more: `io.numbers`), which the precise path
  keeps as written;
- no key twice (orjson keeps the last value, polars the first) and no key outside the schema
  (polars would drop it): the keys of the line (each ends with a `":` that is not an escaped
  quote's `\\":`) are as many as the values polars found, plus the keys given as `null` (found at
  the top level, `__nulls`: absent, but counted as the precise path counts keys) and the keys
  inside `items`; a key given as `null` holds no value in polars' row;
- `items` is kept as JSON text, as the precise path keeps it: the array's text in the line, parsed
  and written again by the same functions (orjson, `values.exact_json`), so spacing, `1.50` or a
  key given twice in an item come out as the precise path writes them; an array whose objects
  could hold more than MAX_KEYS keys goes to the precise path.

A number key's class comes from the sample: `int` (integer tokens alone, read as Int64), `float`
(fractions alone, Float64) or `num` (both, as real exports mix `29900` and `14.99`: read as
Float64, and each integer token's text kept in `__exact__<key>` as the precise path keeps it: the
integer of an integral value, read from the line's top level only where the line holds a `.0`
token, the grammar's one integral fraction); a line whose token is of another class goes to the
precise path, and `merge_lanes` gives the merged column the type the
precise path would give the whole file (`io.frames`). Keys outside the catalog are in the schema
when the sample shows them with one JSON type (string, boolean, integer or fraction) and a plain name,
in at least 1 line in `frames.RARE` (a key rarer there is likely rare over the file, where the precise
path keeps it in `__more`: its lines take the precise lane, rather than move there after the read).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import orjson
import polars as pl

from adrop_kit.io.columns import EXACT
from adrop_kit.io.frames import ERROR, RAW, ROW, key_types
from adrop_kit.io.jsonl_plan import ITEMS_TEXT, Plan, W, plan
from adrop_kit.io.lines import Lines, invalid_utf8_lines
from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.spec.rules import MAX_EVENT_BYTES, MAX_KEYS

SAMPLE_LINES = 2000
"""Lines read with orjson to learn the keys outside the catalog and each number key's class."""
PART_BYTES = 8 << 20
"""From this many bytes per part on, the lines are cut into parts read in threads (one per core)."""
MAX_PARTS = 8
MAX_PLAIN_BYTES = MAX_EVENT_BYTES // 2  # longer lines take the precise path (the size rule: validate.size)
NULLS = "__nulls"
"""In the native lane's frame: the keys a line gives as `null` (absent, but counted as the precise path counts keys)."""

_BLANK = r"^[ \t\n\r\x0b\x0c]*$"  # bytes.isspace(): what read_json calls a blank line
_NULL_MEMBER = '":' + W + "null"


@dataclass
class Split:
    """Which lines the native lane read (`frame`, in line order) and which it left to the precise path."""

    frame: pl.DataFrame  # __row, __error, __raw, __nulls, the plan's columns (+ __exact__), for the plain lines
    slow: list[int]  # line numbers of the non-blank lines left to the precise path


def _parts(lines: Lines) -> list[tuple[int, int]]:
    """Ranges of lines read side by side in threads (polars reads one text on one core): one per
    core from PART_BYTES on, so a small input stays on one thread."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    k = max(1, min(cores, MAX_PARTS, len(lines.data) // PART_BYTES, len(lines)))
    bounds = np.linspace(0, len(lines), k + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def native_lane(lines: Lines, catalog: Catalog, *, mostly_slow: float = 1.0,
                early: Callable[[list[int]], None] | None = None) -> Split | None:
    """Read the plain lines natively (see the module docstring); name the others. None, before
    the file is read, when more than `mostly_slow` of the sample's lines are not plain. `early`
    is called (from a part's thread) with the lines a part's grammar refused as soon as they are
    known, before that part is read, so the precise path can start on them (`Split.slow` names
    them again)."""
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
        done = [_part(lines, *parts[0], p, early)]
    else:
        with ThreadPoolExecutor(len(parts)) as pool:  # polars releases the GIL: the parts run at once
            done = list(pool.map(lambda r: _part(lines, *r, p, early, rechunk=True), parts))
    frame = pl.concat([f for f, _ in done], how="diagonal_relaxed") if len(done) > 1 else done[0][0]
    return Split(_finish(frame, p, catalog), [n for _, slow in done for n in slow])


def _part(lines: Lines, lo: int, hi: int, p: Plan, early: Callable[[list[int]], None] | None = None, *,
          rechunk: bool = False) -> tuple[pl.DataFrame, list[int]]:
    """The plain lines of lines lo..hi read natively (a frame) and the numbers of the others."""
    raw = lines.binary(lo, hi)
    forced = np.zeros(hi - lo, bool)
    try:
        text = raw.cast(pl.String)
    except pl.exceptions.ComputeError:  # some line is not UTF-8: it takes the precise path
        bad = invalid_utf8_lines(lines, lo, hi)
        forced[bad] = True
        start = int(lines.offsets[lo])
        patched = np.frombuffer(lines.data, np.uint8, int(lines.offsets[hi]) - start, start).copy()
        for i in (bad + lo).tolist():  # its text is never looked at: spaces, so the part reads as text
            patched[lines.offsets[i] - start:lines.offsets[i + 1] - start] = 32
        text = Lines(memoryview(patched), lines.offsets[lo:hi + 1] - start).binary().cast(pl.String)  # type: ignore[arg-type]
    df = pl.DataFrame({"t": text, "forced": forced}).with_columns(
        pl.int_range(lo, hi, dtype=pl.Int64).alias(ROW))
    df = df.with_columns(plain=~pl.col("forced") & (pl.col("t").str.len_bytes() <= MAX_PLAIN_BYTES)
                         & pl.col("t").str.contains(p.grammar()))
    plain = df.filter("plain").select(ROW, "t")
    other = df.filter(~pl.col("plain"))  # few lines: only these are asked whether they are blank
    slow = other.filter(pl.col("forced") | ~pl.col("t").str.contains(_BLANK)).get_column(ROW)
    if early is not None and len(slow):
        early(slow.to_list())
    mask = df.get_column("plain").to_numpy()
    body = lines.data[int(lines.offsets[lo]):int(lines.offsets[hi])] if mask.all() else _selected(lines, lo, hi, mask)
    fast = _decode(plain, p, body)
    keep = fast.get_column("__ok")
    if not keep.all():
        slow = pl.concat([slow, fast.filter(~keep).get_column(ROW)]).sort()
        fast = fast.filter(keep)  # (a copy of the frame: only when some line is not read one for one)
    frame = fast.drop("__ok").with_columns(pl.lit(None, pl.String).alias(ERROR), pl.lit(None, pl.String).alias(RAW))
    # parts read side by side rechunk here, in their threads: their concat has aligned chunks, so no expression
    # copies it whole later (one part, a streamed batch's: no copy here, the frame at its smallest)
    return frame.rechunk() if rechunk else frame, slow.to_list()


def _selected(lines: Lines, lo: int, hi: int, mask: np.ndarray) -> bytes:
    """The bytes of the selected lines of lo..hi, one after the other (each keeps its line end):
    the runs of consecutive selected lines joined, read where they lie (as many runs as gaps)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).astype(np.int8)))
    offsets, view = lines.offsets[lo:hi + 1], memoryview(lines.data)
    return b"".join(view[offsets[a]:offsets[b]] for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(),
                                                                 strict=True))


def _decode(plain: pl.DataFrame, p: Plan, body: bytes) -> pl.DataFrame:
    """polars reads the plain lines; `__ok` says whether the line's keys were read one for one: the
    keys of a line (each ends with a `":` that is not an escaped quote's `\\":`) are the values
    polars found, the keys given as null, `items` and the keys inside it."""
    schema = p.schema()
    if plain.height:
        values = pl.read_ndjson(body, schema=schema)
        if values.height != plain.height:
            raise pl.exceptions.ComputeError("the plain lines were read as a different number of rows")
    else:
        values = pl.DataFrame(schema=schema)
    t = plain.get_column("t")
    keys = key_ends(t)
    found = values.select(pl.sum_horizontal(pl.all().is_not_null().cast(pl.UInt32))).to_series() \
        if values.width else pl.zeros(plain.height, pl.UInt32, eager=True)
    out = pl.concat([plain.select(ROW), values], how="horizontal")
    ok = pl.repeat(True, len(t), dtype=pl.Boolean, eager=True).alias("")
    top = _TopLevel(t)
    if ITEMS in p.classes:
        where = t.str.contains(f'"{ITEMS}":', literal=True).arg_true()  # the regex runs only on these lines
        items, inner = _none(len(t)), pl.zeros(len(t), pl.UInt32, eager=True)
        if len(where):  # the first `"items":` of a plain line is its key (a quote in a string is escaped)
            texts = t.gather(where).str.extract(f'"{ITEMS}":{W}{ITEMS_TEXT}', 0)  # no group: no capture engine
            texts = texts.str.slice(len(ITEMS) + 3).str.strip_chars_start(" \t")
            top.cut(where, texts)
            canonical, counts = _canonical(texts, p)
            items, inner = items.scatter(where, canonical), inner.scatter(where, counts)
        found = found + items.is_not_null().cast(pl.UInt32) + inner
        ok = inner <= MAX_KEYS  # an item object cannot have more than MAX_KEYS keys
        out = out.with_columns(items.alias(ITEMS))
    nulls = _null_keys(t, top, p)
    found = found + nulls.list.len().fill_null(0).cast(pl.UInt32)
    for key in nulls.drop_nulls().explode().drop_nulls().unique().to_list():  # null and not: orjson keeps the last
        ok = ok & ~(nulls.list.contains(key).fill_null(False) & out.get_column(key).is_not_null())
    nums = [key for key, cls in p.classes.items() if cls == "num" and key in out.columns]
    if nums:
        whole = t.str.contains(rf"\.0{W}[,}}]")  # a line that may hold an integral fraction token (`29900.0`)
        for key in nums:
            out = _int_tokens(out, top, whole, key, integer=key in p.integers)
    return out.with_columns(nulls.list.unique().alias(NULLS), ((keys == found) & ok).fill_null(False).alias("__ok"))


def key_ends(texts: pl.Series) -> pl.Series:
    """How many keys each text holds: its `":` that are not an escaped quote's `\\":` (no key of
    the grammar holds a backslash)."""
    keys = texts.str.count_matches('":', literal=True)
    escaped = texts.str.contains('\\"', literal=True).fill_null(False).arg_true()  # few texts hold an escaped quote
    if not len(escaped):
        return keys
    return keys.scatter(escaped, keys.gather(escaped) - texts.gather(escaped).str.count_matches('\\":', literal=True))


def _none(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True).alias("")  # (not from a list of n Nones)


class _TopLevel:
    """The lines' top level: a line with its items array cut out (its objects may hold any key),
    made only for the few lines a search must not look inside items on (Python: polars takes no
    pattern per row)."""

    def __init__(self, lines: pl.Series) -> None:
        self.lines = lines
        self.where = np.empty(0, np.int64)  # the positions of the lines with items (ascending), and their texts
        self.texts = _none(0)

    def cut(self, where: pl.Series, texts: pl.Series) -> None:
        self.where, self.texts = where.to_numpy().astype(np.int64), texts

    def of(self, where: pl.Series) -> pl.Series:
        """The top level of the lines at positions `where`."""
        lines = self.lines.gather(where)
        at = where.to_numpy().astype(np.int64)
        pos = np.minimum(np.searchsorted(self.where, at), max(len(self.where) - 1, 0))
        has = np.flatnonzero(self.where[pos] == at) if len(self.where) else pos[:0]
        if not len(has):
            return lines
        items = self.texts.gather(pos[has]).to_list()
        cut = [line if i is None else line.replace(i, "", 1) for line, i in zip(lines.gather(has).to_list(), items,
                                                                                 strict=True)]
        return lines.scatter(has, pl.Series(cut, dtype=pl.String))  # scatter works in place


def _null_keys(t: pl.Series, top: _TopLevel, p: Plan) -> pl.Series:
    """The keys each line gives as `null` at its top level (null when none): found on the lines
    holding a null member, at their top level (items objects may hold nulls too)."""
    maybe = t.str.contains("null", literal=True).arg_true()  # a literal scan first: few lines hold a null
    where = maybe.gather(t.gather(maybe).str.contains(_NULL_MEMBER).arg_true())
    if not len(where):
        return pl.repeat(None, len(t), dtype=pl.List(pl.String), eager=True).alias("")
    members = top.of(where).str.extract_all(rf'[{{,]{W}"(?:{p.keys_pattern()}){_NULL_MEMBER}')
    names = members.list.eval(pl.element().str.extract(r'"([^"]*)"')).list.drop_nulls()
    at = np.full(len(t), -1, np.int64)  # each line's position in `names` (scatter does not take lists)
    at[where.to_numpy()] = np.arange(len(where))
    return names.gather(pl.Series(at).replace(-1, None))


def _int_tokens(out: pl.DataFrame, top: _TopLevel, whole: pl.Series, key: str, *, integer: bool) -> pl.DataFrame:
    """For a key of class `num` (Float64): the text of each integer token in `__exact__<key>`. The
    grammar's integers (15 digits at most, no `-0`) are exact in a float, and its only integral
    fractions end in `.0`: an integral value is an integer token written as its integer, unless the
    line holds a `.0` token (`whole`), where the token is read at the line's top level. For an
    `integer` parameter, an integral fraction's text too (`3.0`: the precise path keeps it, W-rules
    name it)."""
    v = out.get_column(key)
    integral = (v.is_not_null() & (v.round(0) == v)).fill_null(False)
    exact = pl.select(pl.when(integral).then(v.cast(pl.Int64).cast(pl.String))).to_series()
    where = (integral & whole).arg_true()
    if len(where):
        token = top.of(where).str.extract(rf'[{{,]{W}"{re.escape(key)}":{W}(-?[0-9]+){W}[,}}]')
        exact = exact.scatter(where, token)
        if integer and len(fraction := where.filter(token.is_null())):
            exact = exact.scatter(fraction, v.gather(fraction).cast(pl.Int64).cast(pl.String) + ".0")
    return out.with_columns(exact.alias(EXACT + key))


def _canonical(texts: pl.Series, p: Plan) -> tuple[pl.Series, pl.Series]:
    """Each items array's text as the precise path writes it (`values.exact_json` of the parsed value:
    no spaces, `\\u00e9` as `é`, a key given twice once), and how many keys it holds. A text the
    plan's patterns prove canonical (`Plan.canonical_items`: 84% of realistic texts) is kept as it
    is; only the others are parsed and written again, here. (Proving them with `json_decode`
    counting their keys was measured as costly as the loop: 0.29–0.31 CPU s for 74k texts each.)"""
    todo = pl.int_range(0, len(texts), dtype=pl.UInt32, eager=True)
    if (patterns := p.canonical_items()) is not None:
        canon, twice = patterns
        todo = todo.filter(~(texts.str.contains(canon) & ~texts.str.contains(twice)).fill_null(True))
    out = texts
    if len(todo):
        loads, dumps = orjson.loads, orjson.dumps  # (the grammar's texts hold no number orjson writes otherwise,
        redo = pl.Series(texts.name, [None if t is None else dumps(loads(t))  # no NaN, no integer past 64 bits:
                                      for t in texts.gather(todo).to_list()], pl.Binary)  # as `exact_json`)
        out = texts.clone().scatter(todo, redo.cast(pl.String)) if len(todo) < len(texts) else redo.cast(pl.String)
    return out, key_ends(out).cast(pl.UInt32).fill_null(0)  # (`"items":null`: no text, no key)


def _finish(frame: pl.DataFrame, p: Plan, catalog: Catalog) -> pl.DataFrame:
    """The native lane's columns as the precise path types them: a number key whose tokens were all
    integers is Int64; otherwise Float64, with the text of each integer, and for an integer
    parameter of each integral float ("3.0"), in `__exact__<key>` (the parts wrote them: `_int_tokens`)."""
    exprs, whole = [], []
    for key, cls in p.classes.items():
        if key not in frame.columns:
            continue
        if cls == "num":
            exact = frame.get_column(EXACT + key)
            if exact.null_count() == frame.get_column(key).null_count() \
                    and not (key in p.integers and exact.str.ends_with(".0").any()):
                exprs.append(pl.col(key).cast(pl.Int64))  # integer tokens alone: as the precise path reads them
                whole.append(EXACT + key)
        elif cls == "float" and key in p.integers:
            v = pl.col(key)
            exprs.append(pl.when(v.round(0) == v).then(v.cast(pl.Int64).cast(pl.String) + ".0").alias(EXACT + key))
    frame = frame.with_columns(exprs).drop(whole) if exprs else frame
    return null_columns(frame, catalog)


def null_columns(frame: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """A column for each key some row holds (maybe as null), none for the others, typed as the
    precise path types a key that only ever held null (`io.columns.series`)."""
    payload = [c for c in frame.columns if not c.startswith("__")]
    if payload:
        nulls = frame.select(pl.col(payload).null_count()).row(0)
        frame = frame.drop([c for c, n in zip(payload, nulls, strict=True) if n == frame.height])
    if NULLS not in frame.columns:
        return frame
    named = frame.get_column(NULLS).drop_nulls().explode().drop_nulls().unique().to_list()
    types = key_types(catalog)
    dtypes = {"string": pl.String, "boolean": pl.Boolean, "items": pl.String, "number": pl.Int64, "integer": pl.Int64}
    add = [pl.lit(None, dtypes.get(types.get(k, ""), pl.Null)).alias(k) for k in named if k not in frame.columns]
    return frame.with_columns(add) if add else frame


__all__ = ["NULLS", "Plan", "Split", "key_ends", "native_lane", "null_columns", "plan"]
