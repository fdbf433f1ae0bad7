"""Small batches checked together: many tiny part files cost little per file.

`check_batch` has a fixed cost per call (it builds the polars checks for the batch's columns and
runs a few collects: ~20–60 ms), so a directory of 100,000 one-row part files checked part by
part took over half an hour. `checked_groups` joins consecutive small batches (each at most
`SMALL_ROWS` rows; together at most `GROUP_ROWS` rows and `GROUP_COLUMNS` columns) into one frame,
checks it once, and splits the result back into one `CheckedBatch` per batch, each as
`check_batch` would have made it alone: its source, its rows numbered in its own file (`__row`,
`__line`), its violations, its notes, its own columns, in input order. Nothing downstream (the accumulator, W107,
the rows written out, the send planner) sees a difference, only fewer calls.

Joining is safe because a row's verdict depends on that row alone (W107 aside, which the
accumulator judges after the split) and a null is an absent key: a column another part brings is
null in this part's rows. Batches whose shared columns differ in type are not put in one frame (a
key that is text in one part and a number in the next is judged as each part's reader typed it):
a run is checked in as many frames as it has such classes (`kinds`), usually one to four.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import ROW, Frame
from adrop_kit.io.importers.detect import export_hint
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.batch import CheckedBatch, check_batch

SMALL_ROWS = 4_096
"""A batch of at most this many rows may be checked together with its neighbours."""
GROUP_ROWS = 65_536
"""Batches checked together hold at most this many rows..."""
GROUP_COLUMNS = 256
"""...and at most this many distinct columns (a part per custom key must not make one very wide frame)."""

Piece = tuple[int, Frame]


def groups(frames: Iterable[Piece]) -> Iterator[list[Piece]]:
    """The (part index, frame) pairs of an input, in order, cut into runs checked together: a
    large frame alone; consecutive small ones while their rows and columns allow."""
    run: list[Piece] = []
    names: set[str] = set()
    rows = 0
    for piece in frames:
        df = piece[1].df
        if df.height > SMALL_ROWS or ROW not in df.columns:
            if run:
                yield run
                run, names, rows = [], set(), 0
            yield [piece]
            continue
        if run and (rows + df.height > GROUP_ROWS or len(names.union(df.columns)) > GROUP_COLUMNS):
            yield run
            run, names, rows = [], set(), 0
        run.append(piece)
        names.update(df.columns)
        rows += df.height
    if run:
        yield run


def kinds(run: Sequence[Piece]) -> list[list[int]]:
    """The pieces of a run (by index) in classes that can share one frame: in each, a column shared
    by two pieces has one type (an integral `price` in one part and a fractional one in the next are
    checked in two frames, each as its reader typed it). Each class keeps input order."""
    classes: list[tuple[dict[str, Any], list[int]]] = []
    for i, (_, frame) in enumerate(run):
        schema = frame.df.schema
        for seen, members in classes:
            if all(seen.get(name, dtype) == dtype for name, dtype in schema.items()):
                seen.update(schema)
                members.append(i)
                break
        else:
            classes.append((dict(schema), [i]))
    return [members for _, members in classes]


def checked_groups(frames: Iterable[Piece], catalog: Catalog, **check: Any) -> Iterator[CheckedBatch]:
    """`check_batch(frame, catalog, part=part, **check)` for every (part, frame), in order, small
    consecutive frames checked together (see the module docstring)."""
    for run in groups(frames):
        if len(run) == 1:
            part, frame = run[0]
            yield check_batch(frame, catalog, part=part, **check)
        else:
            done: dict[int, CheckedBatch] = {}
            for members in kinds(run):
                done.update(zip(members, _check_run([run[i] for i in members], catalog, check), strict=True))
            yield from (done[i] for i in range(len(run)))


def _check_run(run: Sequence[Piece], catalog: Catalog, check: dict[str, Any]) -> list[CheckedBatch]:
    if len(run) == 1:
        part, frame = run[0]
        return [check_batch(frame, catalog, part=part, **check)]
    dfs = [frame.df for _, frame in run]
    try:
        joined = pl.concat(dfs, how="diagonal")
    except pl.exceptions.PolarsError:  # pragma: no cover - types were compared; a dtype concat refuses
        return [check_batch(frame, catalog, part=part, **check) for part, frame in run]
    rows = joined.get_column(ROW)
    position = pl.int_range(joined.height, dtype=rows.dtype, eager=True).alias(ROW)
    cb = check_batch(Frame(joined.with_columns(position), ""), catalog, part=run[0][0], **check)
    df = cb.df
    if df.height != joined.height or not df.get_column(ROW).equals(position):  # pragma: no cover - a check reordered
        return [check_batch(frame, catalog, part=part, **check) for part, frame in run]
    df = df.with_columns(rows)
    bounds = pl.Series([0, *[d.height for d in dfs]]).cum_sum()
    v = cb.violations
    at = v.get_column("row")
    owner = bounds.search_sorted(at, side="right") - 1
    labels = pl.Series([frame.source for _, frame in run], dtype=pl.String)
    v = v.with_columns(labels.gather(owner).alias("source"), rows.gather(at).cast(pl.Int64).alias("row"))
    cuts = at.search_sorted(bounds, side="left").to_list()  # violations are sorted by position
    added = [c for c in df.columns if c not in joined.columns]
    out = []
    for k, (part, frame) in enumerate(run):
        own = frame.df.columns
        cols = own + ([] if "eventName" in own or "eventName" in added else ["eventName"]) + added
        start, n = bounds[k], dfs[k].height
        hint = export_hint(own)
        out.append(CheckedBatch(frame.source, part, df.slice(start, n).select(cols),
                                v.slice(cuts[k], cuts[k + 1] - cuts[k]), frame.notes + ((hint,) if hint else ())))
    return out


__all__ = ["GROUP_COLUMNS", "GROUP_ROWS", "SMALL_ROWS", "checked_groups", "groups", "kinds"]
