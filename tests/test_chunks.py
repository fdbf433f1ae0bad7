"""`support.chunks.aligned`: the same frame, every column cut at the same rows (what the checks are given)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from adrop_kit.support.chunks import aligned, gathered


def _chunked(values: list, cuts: list[int], name: str, dtype: pl.DataType) -> pl.Series:
    bounds = [0, *cuts, len(values)]
    return pl.concat([pl.Series(name, values[a:b], dtype) for a, b in zip(bounds, bounds[1:], strict=False)
                      if b > a], rechunk=False)


@pytest.mark.parametrize("cuts", [[[3, 7], [], [5], [3, 7]], [[], [2, 4, 6], [2, 4, 6]], [[4], [4], [4]]])
def test_every_column_is_cut_where_most_are_and_holds_the_same_values(cuts: list[list[int]]) -> None:
    n = 10
    frame = pl.DataFrame([_chunked(list(range(n)), cuts[0], "", pl.Int64),
                          _chunked([None if i % 3 else f"s{i}" for i in range(n)], cuts[1], "b", pl.String),
                          *(_chunked([i * 0.5 for i in range(n)], c, f"c{k}", pl.Float64)
                            for k, c in enumerate(cuts[2:]))])
    frame.columns = ["", *frame.columns[1:]]  # (a CSV header may name a column so)
    out = aligned(frame)
    assert_frame_equal(out, frame)
    layouts = {tuple(s.chunk_lengths()) for s in out.iter_columns()}
    assert len(layouts) == 1
    assert out.columns == frame.columns  # a column named "" too
    assert out.with_columns((pl.col("") + 1).alias("z")).get_column("z").to_list() == list(range(1, n + 1))


def test_a_frame_with_one_layout_or_no_rows_is_given_back() -> None:
    one = pl.DataFrame({"a": [1, 2], "b": ["x", None]})
    assert aligned(one) is one
    empty = pl.DataFrame(schema={"a": pl.Int64, "b": pl.String})
    assert aligned(empty) is empty


def test_a_frame_whose_columns_are_mostly_one_chunk_is_left_to_polars() -> None:
    frame = pl.DataFrame([pl.Series("a", [1, 2, 3, 4]), pl.Series("b", ["w", "x", "y", "z"]),
                          _chunked([0.5, 1.5, 2.5, 3.5], [2], "c", pl.Float64)])
    assert aligned(frame) is frame


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=6), st.data())
def test_gathered_rows_are_the_rows_polars_gathers(sizes: list[int], data: st.DataObject) -> None:
    n = sum(sizes)
    cuts = [sum(sizes[:i]) for i in range(1, len(sizes))]
    frame = pl.DataFrame([_chunked([None if i % 4 == 1 else f"t{i}\nx" for i in range(n)], cuts, "a", pl.String),
                          _chunked(list(range(n)), cuts, "b", pl.Int64)])
    rows = pl.Series(sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n))),
                     dtype=pl.UInt32)
    assert_frame_equal(gathered(frame, rows), frame[rows])
