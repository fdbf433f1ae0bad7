"""W107, the one rule that compares rows: the same `tx_id` on more than one purchase.

The first purchase in input order (by file, then row) keeps a tx_id; every later one is a W107
that names it: "row 3", or "row 3 of part-0001.jsonl" when the first is in another file.

One function judges it, `duplicate_tx`, over purchases (`purchases`: the readable purchases of a
checked batch that carry a tx_id) of any set of rows that holds, for each of its tx_ids, every use
or the first use and the rest. Every entry point calls it:

- a batch pipeline (in memory: one batch; streamed validation and sending: many) keeps a
  `W107State`, the first use of each tx_id seen so far, and judges each batch against it as the
  batch comes (`W107State.judge`): a streamed send can hold a W107 row before it sends it, and the
  verdicts do not depend on where the batches were cut;
- Spark hashes the purchases by tx_id, so that every use of a tx_id is in one partition, and calls
  `duplicate_tx` on each.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from adrop_kit.io.frames import ERROR, ROW
from adrop_kit.spec.rules import MESSAGES, PURCHASE_EVENT, TX_PARAM, Rule
from adrop_kit.validate.checks import SOURCED_VIOLATION_SCHEMA, _slot, line_of, printable_text, render, short_text

PART = "__part"
"""The order of a purchase's file: the part's index in the input (locally), or its name (Spark)."""
CANDIDATE_SCHEMA = {"source": pl.String, PART: pl.Int64, "row": pl.Int64, "line": pl.Int64,
                    "eventName": pl.String, TX_PARAM: pl.String}
"""What `purchases` returns and `duplicate_tx` reads (Spark gives `PART` as the file's name)."""
_FIRST_SOURCE, _FIRST_ROW, _NTH = "__first_source", "__first_row", "__nth"


def purchases(df: pl.DataFrame, source: str, part: int) -> pl.DataFrame:
    """The rows W107 looks at, from a checked batch of the file `source` (the `part`-th of the input):
    readable purchases (not E001) with a non-empty tx_id, as `CANDIDATE_SCHEMA`."""
    if TX_PARAM not in df.columns or "eventName" not in df.columns or df.schema[TX_PARAM] != pl.String:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    tx = pl.col(TX_PARAM)
    ok = pl.col(ERROR).is_null() if ERROR in df.columns else pl.lit(True)
    return df.lazy().filter(ok & (pl.col("eventName") == PURCHASE_EVENT) & tx.is_not_null() & (tx != "")).select(
        pl.lit(source, pl.String).alias("source"), pl.lit(part, pl.Int64).alias(PART), pl.col(ROW).alias("row"),
        line_of(df.columns), pl.col("eventName").cast(pl.String), tx).collect()  # (lazy: six columns filtered, not all)


def duplicate_tx(cands: pl.DataFrame, *, keep: Sequence[str] = ()) -> pl.DataFrame:
    """The W107 violations (`SOURCED_VIOLATION_SCHEMA`, then the `keep` columns of `cands`) of the
    purchases `cands`: every one but the first (by `PART`, then row) of its tx_id, in that order."""
    schema = {**SOURCED_VIOLATION_SCHEMA, **{k: cands.schema[k] for k in keep}}
    if cands.height < 2:
        return pl.DataFrame(schema=schema)
    tx = pl.col(TX_PARAM)
    ranked = cands.sort(PART, "row").with_columns(
        pl.col("source").first().over(TX_PARAM).alias(_FIRST_SOURCE),
        pl.col("row").first().over(TX_PARAM).alias(_FIRST_ROW),
        pl.int_range(pl.len()).over(TX_PARAM).alias(_NTH))
    dup = ranked.filter(pl.col(_NTH) > 0)
    if not dup.height:
        return pl.DataFrame(schema=schema)
    first_row = pl.col(_FIRST_ROW).cast(pl.String)
    where = (pl.when(pl.col(_FIRST_SOURCE) == pl.col("source")).then(first_row)
             .otherwise(pl.concat_str(first_row, pl.lit(" of "), pl.col(_FIRST_SOURCE))))
    return dup.select(
        "source", "row", pl.col("line").cast(pl.Int64), "eventName", pl.lit(Rule.W107.value).alias("rule"),
        pl.lit(Rule.W107.severity).alias("severity"), pl.lit(TX_PARAM).alias("field"), short_text(tx).alias("value"),
        render(MESSAGES["W107"].format(tx=_slot("t"), first=_slot("f")), t=printable_text(tx), f=where)
        .alias("message"), *keep)


class W107State:
    """The first use of each tx_id in the batches judged so far (which come in input order)."""

    def __init__(self) -> None:
        self._firsts: list[pl.DataFrame] = []  # (source, PART, row, tx_id), one row per tx_id

    def judge(self, cands: pl.DataFrame) -> pl.DataFrame:
        """The W107 violations among `cands`, the purchases of the next batch (`purchases`)."""
        if not cands.height:
            return pl.DataFrame(schema=SOURCED_VIOLATION_SCHEMA)
        seen = pl.concat(self._firsts, rechunk=False) if self._firsts else pl.DataFrame(
            schema={k: CANDIDATE_SCHEMA[k] for k in ("source", PART, "row", TX_PARAM)})
        ids = cands.get_column(TX_PARAM).unique().implode()
        earlier = seen.filter(pl.col(TX_PARAM).is_in(ids))
        both = pl.concat([earlier, cands], how="diagonal_relaxed")
        found = duplicate_tx(both.filter(pl.col(TX_PARAM).is_duplicated()))  # (a tx_id used once is no W107)
        new = cands.filter(~pl.col(TX_PARAM).is_in(earlier.get_column(TX_PARAM).implode()))
        if new.height:
            firsts = new.sort(PART, "row").unique(TX_PARAM, keep="first", maintain_order=True)
            self._firsts.append(firsts.select("source", PART, "row", TX_PARAM))
            if len(self._firsts) > 64:  # a few large frames, not thousands of small ones
                self._firsts = [pl.concat(self._firsts)]
        return found


__all__ = ["CANDIDATE_SCHEMA", "PART", "W107State", "duplicate_tx", "purchases"]
