"""The synthetic dataset: seeded, shaped like real traffic, and honest about what it planted."""

from __future__ import annotations

import json

import polars as pl
import pytest

from adrop_kit import STANDARD, validate_event
from adrop_kit.explore.synth import (
    ERROR_RULES,
    TRUTH,
    TS,
    WARNING_RULES,
    frame_to_events,
    sample_events,
    sample_frame,
    write_sample,
)


@pytest.fixture(scope="module")
def big() -> pl.DataFrame:
    return sample_frame(60_000, seed=11)


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert sample_frame(3_000, seed=7).equals(sample_frame(3_000, seed=7))
    assert not sample_frame(3_000, seed=7).equals(sample_frame(3_000, seed=8))


@pytest.mark.parametrize("n", [0, 1, 17, 5_000])
def test_exactly_n_rows_with_the_catalog_columns(n: int) -> None:
    frame = sample_frame(n)
    assert frame.height == n
    assert frame.columns == [*STANDARD.columns, TS, TRUTH]


def test_column_types_follow_the_catalog() -> None:
    schema = sample_frame(500).schema
    expected = {"string": pl.String, "number": pl.Float64, "integer": pl.Int64}
    for name, ptype in STANDARD.param_types.items():
        if ptype == "items":
            assert schema[name] == pl.List(pl.Struct({"item_id": pl.String, "item_name": pl.String,
                                                      "item_category": pl.String, "brand": pl.String,
                                                      "price": pl.Float64, "quantity": pl.Int64}))
        else:
            assert schema[name] == expected[ptype], name
    assert schema["uid"] == schema["eventName"] == schema["platform"] == schema[TRUTH] == pl.String
    assert schema[TS] == pl.Datetime("us")


def test_users_drop_off_along_the_funnel(big: pl.DataFrame) -> None:
    users = dict(big.group_by("eventName").agg(pl.col("uid").n_unique()).iter_rows())
    assert users["view_item"] > users["add_to_cart"] > users["begin_checkout"] > users["purchase"] > 0
    assert 0.3 < users["begin_checkout"] / users["add_to_cart"] < 0.8
    assert 0.4 < users["purchase"] / users["begin_checkout"] < 0.9
    for name in STANDARD.names:
        assert users.get(name, 0) > 0, f"no {name} at all"
    # everyone who purchased reached checkout first (E003 rows lose their name, so "roughly")
    def who(name: str) -> set[str]:
        return set(big.filter(pl.col("eventName") == name).get_column("uid"))
    assert len(who("purchase") - who("begin_checkout")) <= 0.02 * len(who("purchase"))


def test_timestamps_increase_and_users_come_back(big: pl.DataFrame) -> None:
    assert big.get_column(TS).is_sorted()
    per_user = big.group_by("uid").agg(pl.len(), (pl.col(TS).max() - pl.col(TS).min()).alias("span"))
    assert per_user.filter(pl.col("span") > pl.duration(hours=1)).height > 0.2 * per_user.height


def test_commerce_values_are_coherent(big: pl.DataFrame) -> None:
    clean = big.filter(pl.col(TRUTH).is_null())
    carts = clean.filter(pl.col("eventName") == "add_to_cart", pl.col("value").is_not_null())
    assert (carts["value"] == carts["price"] * carts["quantity"]).all()
    currencies = clean.get_column("currency").drop_nulls().value_counts(sort=True)
    assert currencies["currency"].to_list() == ["KRW", "USD"]
    purchases = big.filter(pl.col("eventName") == "purchase", pl.col("tx_id").is_not_null())
    dup = purchases.filter(pl.col("tx_id").is_duplicated())
    assert dup.height == 2 * (big[TRUTH] == "W107").sum()
    assert set(big.filter(pl.col("eventName").is_in(["begin_checkout", "purchase"]), pl.col(TRUTH).is_null())
               .get_column("items").list.len().to_list()) <= {1, 2, 3, 4, 5, 6, 7}
    assert set(big.get_column("platform").drop_nulls()) >= {"web", "android", "ios"}


def test_mistakes_are_planted_at_the_asked_rates() -> None:
    frame = sample_frame(20_000, seed=2, error_rate=0.05, warning_rate=0.02)
    truth = frame.get_column(TRUTH)
    assert truth.str.starts_with("E").sum() == 1_000
    assert truth.str.starts_with("W").sum() == 400
    assert set(truth.drop_nulls()) <= set(ERROR_RULES) | set(WARNING_RULES)
    assert sample_frame(5_000, error_rate=0, warning_rate=0).get_column(TRUTH).null_count() == 5_000


@pytest.mark.parametrize(("seed", "errors", "warnings"), [(0, 0.03, 0.01), (5, 0.3, 0.2)])
def test_validate_event_reports_exactly_the_planted_rule(seed: int, errors: float, warnings: float) -> None:
    events = sample_events(2_000, seed=seed, error_rate=errors, warning_rate=warnings, keep_extra=True)
    seen = set()
    for i, event in enumerate(events):
        truth = event.pop(TRUTH, None)
        event.pop(TS)
        expected = set() if truth in (None, "W107") else {truth}  # W107 needs the whole dataset
        assert validate_event(event).rules == expected, (i, truth, event)
        seen.add(truth)
    if errors > 0.1:
        assert seen >= {None, *ERROR_RULES, *WARNING_RULES}


def test_w107_marks_the_second_use_of_a_tx_id(big: pl.DataFrame) -> None:
    rows = big.with_row_index().filter(pl.col("eventName") == "purchase", pl.col("tx_id").is_not_null())
    first = rows.group_by("tx_id").agg(pl.col("index").min())
    repeats = rows.join(first, on="tx_id", suffix="_first").filter(pl.col("index") != pl.col("index_first"))
    assert repeats.get_column(TRUTH).to_list() == ["W107"] * repeats.height
    assert repeats.height == (big[TRUTH] == "W107").sum() > 0
    firsts = big[repeats.get_column("index_first").to_list()]
    assert firsts.get_column(TRUTH).null_count() == firsts.height


def test_a_tracking_plan_adds_columns_and_events() -> None:
    plan = {"events": {"purchase": {"params": {"coupon": {"type": "string", "required": True}}},
                       "level_up": {"params": {"level": {"type": "integer", "required": True},
                                               "premium": "boolean"}}}}
    cat = STANDARD.extend(plan)
    frame = sample_frame(20_000, seed=3, catalog=cat)
    assert {"coupon", "level", "premium"} <= set(frame.columns)
    assert frame.schema["premium"] == pl.Boolean and frame.schema["level"] == pl.Int64
    assert (frame.get_column("eventName") == "level_up").sum() > 0
    for event, truth in zip(frame_to_events(frame), frame.get_column(TRUTH), strict=True):
        expected = set() if truth in (None, "W107") else {truth}
        assert validate_event(event, catalog=cat).rules == expected, (truth, event)


def test_sample_events_drops_nulls_and_extras() -> None:
    events = sample_events(1_000, seed=4)
    assert len(events) == 1_000
    assert all(None not in e.values() and TS not in e and TRUTH not in e for e in events)
    assert all(None not in item.values() for e in events for item in e.get("items", []))
    assert {TS} <= set(sample_events(10, keep_extra=True)[0])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_write_sample_round_trips(tmp_path, suffix: str) -> None:  # noqa: ANN001
    path = write_sample(tmp_path / f"sample{suffix}", 800, seed=9)
    frame = sample_frame(800, seed=9).drop(TRUTH)
    events = frame_to_events(frame, keep_extra=True)
    if suffix == ".parquet":
        assert pl.read_parquet(path).equals(frame)
    elif suffix == ".csv":
        back = pl.read_csv(path, infer_schema=False)
        assert back.columns == frame.columns and back.height == 800
        assert back.get_column("uid").fill_null("").to_list() == frame.get_column("uid").to_list()
        cells = back.get_column("items").to_list()
        assert [json.loads(c) if c else None for c in cells] == [e.get("items") for e in events]
        assert back.get_column(TS).to_list()[0] == frame.get_column(TS)[0].isoformat()
    else:
        text = path.read_text()
        back = [json.loads(line) for line in text.splitlines()] if suffix == ".jsonl" else json.loads(text)
        assert len(back) == 800
        assert [{k: v for k, v in e.items() if k != TS} for e in back] == \
            [{k: v for k, v in e.items() if k != TS} for e in events]
        assert back[0][TS].startswith(frame.get_column(TS)[0].isoformat()[:19])


def test_write_sample_can_keep_the_truth(tmp_path) -> None:  # noqa: ANN001
    path = write_sample(tmp_path / "s.parquet", 300, extra=(TS, TRUTH))
    assert pl.read_parquet(path).columns[-2:] == [TS, TRUTH]
    with pytest.raises(ValueError, match="format"):
        write_sample(tmp_path / "s.txt", 10)
