"""The pandera models, used the way a pandera user uses them: `DataFrameModel`s imported by name,
`validate(df, lazy=True)` and its `failure_cases`, `@pa.check_types`, warnings that warn, and the same
verdicts as `validate_events` on every typed frame the strategies draw (polars and pandas)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pandera.errors as pe
import pandera.pandas as ppa
import pandera.polars as pa
import polars as pl
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from pandera.typing import DataFrame as PandasFrame
from pandera.typing.polars import DataFrame

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.spec.catalog import ENVELOPE, Catalog
from adrop_kit.spec.rules import Rule
from adrop_kit.testing.strategies import frames
from adrop_kit.validate import schemas
from adrop_kit.validate.schemas import AddToCart, Events, Purchase, models_for
from adrop_kit.validate.schemas import pandas as pandas_schemas
from adrop_kit.validate.schemas.typed import typed_frame

RULE_IDS = {r.value for r in Rule}
ROWS = [
    {"uid": "u1", "eventName": "purchase", "platform": "web", "tx_id": "T1", "items": [{"item_id": "a", "price": 9.5}]},
    {"uid": "u2", "eventName": "purchase", "platform": "pc", "tx_id": "T2", "items": []},
    {"eventName": "purchase", "tx_id": "", "currency": "krw"},
]
FAIL = models_for(warnings="fail")
FAIL_PANDAS = models_for(warnings="fail", backend="pandas")
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
"""Each property runs as many examples as it needs (`examples(n)`: a fifth under the fast profile). A pandera
validation costs a few hundred ms of CPU even on 8 rows (a check per rule, each reading the frame again), so
the counts are below hypothesis' default of 100: they took 94 CPU s of the whole suite's 530."""


def _model_verdicts(model: type, df: object) -> set[tuple[int, str]]:
    """(row, rule id) of every failure pandera reports: the rule id opens each check's `error`."""
    try:
        model.validate(df, lazy=True)
    except pe.SchemaErrors as exc:
        fc = exc.failure_cases
        rows = fc.select("index", "check").rows() if isinstance(fc, pl.DataFrame) else \
            list(zip(fc["index"], fc["check"], strict=True))
        return {(int(i), str(c).split(" ")[0]) for i, c in rows}
    return set()


def _report_verdicts(df: object, *, errors_only: bool = False) -> set[tuple[int, str]]:
    v = ak.validate_events(df).violations
    if errors_only:
        v = v.filter(pl.col("severity") == "error")
    return set(v.select("row", "rule").rows())


# -- the models ----------------------------------------------------------------------------------------
def test_a_model_per_event_and_one_for_mixed_events_generated_from_the_catalog():
    for model in (Purchase, AddToCart, Events):
        assert issubclass(model, pa.DataFrameModel)
    assert list(Purchase.to_schema().columns) == list(ak.STANDARD["purchase"].key_names)
    assert list(Events.to_schema().columns) == list(ak.STANDARD.columns)
    cols = AddToCart.to_schema().columns
    assert (cols["price"].dtype.type, cols["quantity"].dtype.type, cols["item_id"].dtype.type) == (
        pl.Float64, pl.Int64, pl.String)
    assert isinstance(Purchase.to_schema().columns["items"].dtype.type, pl.List)
    for model in (Purchase, pandas_schemas.Purchase):
        schema = model.to_schema()
        names = {c.name for col in schema.columns.values() for c in col.checks} | {c.name for c in schema.checks}
        assert names <= RULE_IDS and {"E002", "E004", "E005", "E007", "W104", "W107"} <= names
    assert issubclass(pandas_schemas.AddToCart, ppa.DataFrameModel)
    assert ak.dataset_schema is schemas.dataset_schema and {"dataset_schema", "for_event", "models_for"} <= set(
        ak.__all__)


def test_a_rule_about_one_column_is_a_check_on_that_column_and_rules_across_columns_are_frame_checks():
    schema = AddToCart.to_schema()
    on = {(name, c.name) for name, col in schema.columns.items() for c in col.checks}
    assert {("platform", "E004"), ("uid", "E002"), ("item_id", "E005"), ("price", "W103"),
            ("quantity", "E005"), ("currency", "W104"), ("eventName", "E003")} <= on
    assert {c.name for c in schema.checks} >= {"W105", "W108"}  # value vs price * quantity; the count of keys


def test_failure_cases_name_the_column_the_rule_and_the_row():
    df = typed_frame(ROWS, Purchase)
    with pytest.raises(pa.errors.SchemaErrors) as exc, pytest.warns(pe.SchemaWarning, match="W104"):
        Purchase.validate(df, lazy=True)  # row 2's currency "krw" warns (W104) and fails nothing
    fc = exc.value.failure_cases.with_columns(pl.col("check").str.slice(0, 4).alias("rule"))
    found = set(fc.select("column", "rule", "index").rows())
    assert {("platform", "E004", 1), ("items", "E007", 1), ("uid", "E002", 2), ("tx_id", "E005", 2),
            ("items", "E007", 2)} == found
    message = fc.filter(pl.col("rule") == "E005")["check"].item()
    assert message == "E005 — tx_id is required for purchase but is empty"


def test_warnings_warn_without_failing_validation_unless_asked():
    df = typed_frame([{"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": -2.0, "quantity": 1,
                       "currency": "krw"}], AddToCart)
    with pytest.warns(pe.SchemaWarning) as caught:
        assert AddToCart.validate(df, lazy=True).height == 1
    assert {"W103", "W104"} <= {w for r in caught for w in RULE_IDS if f"<Check {w}:" in str(r.message)}
    with pytest.raises(pa.errors.SchemaErrors):
        FAIL.AddToCart.validate(df, lazy=True)


def test_check_types_with_the_models_polars_and_pandas():
    @pa.check_types
    def revenue(purchases: DataFrame[Purchase]) -> float:
        return float(purchases.select(pl.col("items").list.eval(pl.element().struct.field("price")).list.sum()).sum()
                     .item())

    assert revenue(typed_frame(ROWS[:1], Purchase)) == 9.5
    with pytest.raises(pe.SchemaError, match="E004"):
        revenue(typed_frame(ROWS[:2], Purchase))

    @ppa.check_types
    def first_uid(purchases: PandasFrame[pandas_schemas.Purchase]) -> str:
        return purchases["uid"].iloc[0]

    assert first_uid(typed_frame(ROWS[:1], pandas_schemas.Purchase)) == "u1"
    with pytest.raises(pe.SchemaError, match="E002"):
        first_uid(typed_frame(ROWS[2:], pandas_schemas.Purchase))


def test_a_tracking_plan_gets_its_models_at_run_time(tmp_path):
    plan = Catalog.standard().extend({"events": {"level_up": {"params": {
        "level": {"type": "integer", "required": True}, "character": "string"}}}})
    models = models_for(plan)
    assert models.LevelUp is models["level_up"] and "LevelUp" in dir(models)
    assert list(models.LevelUp.to_schema().columns) == [*ENVELOPE, "level", "character"]
    df = typed_frame([{"uid": "u", "eventName": "level_up", "level": 3}, {"uid": "u", "eventName": "level_up"}],
                     models.LevelUp)
    assert _model_verdicts(models.LevelUp, df) == {(1, "E005")}
    with pytest.raises(AttributeError, match="LevelUp"):
        models_for().LevelUp  # noqa: B018


# -- one verdict ---------------------------------------------------------------------------------------
@settings(PROPERTY, max_examples=examples(50))
@given(frames(FAIL.Events, invalid_rate=0.4, max_size=10))
def test_the_mixed_model_gives_validate_events_verdicts_on_typed_frames(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pe.SchemaWarning)
        assert _model_verdicts(FAIL.Events, df) == _report_verdicts(df)
        assert _model_verdicts(Events, df) == _report_verdicts(df, errors_only=True)  # warnings do not fail


@settings(PROPERTY, max_examples=examples(50))
@given(frames(FAIL.Purchase, invalid_rate=0.4, max_size=8) | frames(FAIL.AddToCart, invalid_rate=0.4, max_size=8))
def test_an_event_model_gives_validate_events_verdicts_on_its_typed_frames(df):
    model = FAIL.Purchase if "tx_id" in df.columns else FAIL.AddToCart
    assert _model_verdicts(model, df) == _report_verdicts(df)


@settings(PROPERTY, max_examples=examples(30))  # the polars models above hold the rules; this, the pandas backend
@given(frames(FAIL_PANDAS.Events, invalid_rate=0.4, max_size=8))
def test_the_pandas_models_give_the_same_verdicts(df):
    assert isinstance(df, pd.DataFrame)
    assert _model_verdicts(FAIL_PANDAS.Events, df) == _report_verdicts(df)


@settings(PROPERTY, max_examples=examples(50))
@given(frames(Purchase, min_size=1, max_size=6))
def test_the_strategies_draw_frames_a_model_accepts_without_a_warning(df):
    with warnings.catch_warnings():
        warnings.simplefilter("error", pe.SchemaWarning)
        assert Purchase.validate(df, lazy=True).height == df.height


def test_frames_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="not a model"):
        frames(pa.DataFrameModel)


# -- engine="pandera" ------------------------------------------------------------------------------------
def test_the_cli_pandera_engine_gives_the_default_report(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    rows = [*ROWS, {"uid": "a@b.co", "eventName": "add_to_cart", "item_id": "x", "price": "9", "quantity": 2.5,
                    "itemId": 1, "meta": {"a": 1}}, {"uid": "u", "eventName": "Purchase"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n", encoding="utf-8")
    reports = []
    for engine in ("local", "pandera"):
        code = main(["validate", str(path), "--format", "json", "--engine", engine])
        assert code == 1
        doc = json.loads(capsys.readouterr().out)
        doc.pop("elapsed_s", None)
        reports.append(doc)
    assert reports[0]["violations"] and reports[0]["violations"] == reports[1]["violations"]
    assert {k: v for k, v in reports[0].items() if "time" not in k and "second" not in k} == {
        k: v for k, v in reports[1].items() if "time" not in k and "second" not in k}
