"""`check_batch`'s shortcuts give what the slow way gives: the JSON text a W102 shows, the keys of rare
columns (`__more`) that W108 counts and the 1,000-key limit bounds, the keys of an items text, an
items text proven clean by its grammar, and the same violations in the same order whichever of its
parts finish first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from conftest import app_opens, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_items_text import items_text

import adrop_kit as ak
from adrop_kit.io.values import exact_json, loads_exact
from adrop_kit.spec.rules import BLANK, BLANK_PATTERN, CURRENCY_PATTERN, MAX_KEYS, MAX_PARAMS
from adrop_kit.validate import nested
from adrop_kit.validate.batch import checks_for
from adrop_kit.validate.checks import blank, contains, full
from adrop_kit.validate.event import check_items
from adrop_kit.validate.sdk_checks import json_texts, param_count, too_many_params


@settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.none(), st.text()), max_size=30))
def test_the_json_text_of_any_string_is_what_exact_json_writes(values: list[str | None]) -> None:
    got = json_texts(pl.Series("k", values, dtype=pl.String)).to_list()
    assert got == [None if v is None else exact_json(v) for v in values]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_rare_keys_count_toward_w108_as_validate_event_counts_them(tmp_path: Path) -> None:
    """21 keys no other row has go to `__more`: W108 there, as for the one event alone; not on the others."""
    many = {"uid": "u", "eventName": "level_up", **{f"rare{i}": i for i in range(21)}}
    few = {"uid": "u", "eventName": "level_up", **{f"rare{i}": i for i in range(20)}, "gone": None}
    rows = [*app_opens(40), many, few]
    report = ak.validate_events(_jsonl(tmp_path / "e.jsonl", rows))
    w108 = report.violations.filter(pl.col("rule") == "W108")
    assert w108.get_column("row").to_list() == [40]
    assert w108.get_column("message").to_list() == [v.message for v in ak.validate_event(many).violations
                                                    if v.rule.value == "W108"]
    sent = {k: v for k, v in few.items() if v is not None}
    assert not any(v.rule.value == "W108" for v in ak.validate_event(sent).violations)


def test_a_row_past_the_key_limit_through_rare_keys_alone_is_e001(tmp_path: Path) -> None:
    over = {"uid": "u", "eventName": "app_open", **{f"k{i}": i for i in range(MAX_KEYS - 1)}}  # one key too many
    report = ak.validate_events(_jsonl(tmp_path / "e.jsonl", [*app_opens(40), over]))
    assert report.violations.filter(pl.col("rule") == "E001").get_column("row").to_list() == [40]
    assert report.invalid == 1


ITEMS_TWICE = [  # a key given twice, one of them spaced before its colon: judged as orjson reads it
    '[{"item_id":"S","price" :-5,"price":1}]', '[{"item_id":"S","price":1,"price"\t:-5}]',
    '[{"item_id":"S","quantity" : 0,"quantity":2}]', '[{"item_id":"a\\" :x","price":-1,"price":2}]',
    '[{"item_id":"S","brand":"\\\\","price":-1,"price":1}]', '[{"item_id":"S","brand":"a\\":null","brand":null}]',
    '[{"item_id":"S"},{"item_id":"T","item_id" :""}]', '[{"item_id":"S","brand": null,"brand" :"x"}]',
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_items_with_a_key_twice_report_as_validate_event_reports_them(tmp_path: Path, suffix: str) -> None:
    """A CSV cell reaches the checks as written (JSONL items are written again, canonically)."""
    texts, path = ITEMS_TWICE, tmp_path / f"e{suffix}"
    if suffix == ".csv":
        path.write_text("uid,eventName,tx_id,items\n" + "".join(
            f'u{i},purchase,t{i},"{t.replace(chr(34), chr(34) * 2)}"\n' for i, t in enumerate(texts)), encoding="utf-8")
    else:
        path.write_text("".join(f'{{"uid":"u{i}","eventName":"purchase","tx_id":"t{i}","items":{t}}}\n'
                                for i, t in enumerate(texts)), encoding="utf-8")
    got = {(v["row"], v["rule"], v["field"]) for v in ak.validate_events(path).to_dict()["violations"]}
    want = {(i, v.rule.value, v.field) for i, t in enumerate(texts)
            for v in ak.validate_event({"uid": f"u{i}", "eventName": "purchase", "tx_id": f"t{i}",
                                        "items": json.loads(t)}).violations}
    assert got == want


def test_the_violations_come_in_the_same_order_run_after_run(tmp_path: Path) -> None:
    rows = [{"uid": f"u{i}", "eventName": "purchase", "tx_id": "t", "currency": "krw", "colour": "red",
             "items": [{"item_id": "", "price": -1}] if i % 2 else []} for i in range(200)]
    path = _jsonl(tmp_path / "e.jsonl", rows)
    first = ak.validate_events(path).violations
    assert all(ak.validate_events(path).violations.equals(first) for _ in range(5))


@settings(max_examples=examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(items_text(), min_size=1, max_size=20))
def test_an_items_text_the_clean_grammar_matches_breaks_no_items_rule(texts: list[str]) -> None:
    """The grammar proves a text clean without reading it: `check_items` on what orjson reads finds nothing."""
    params = tuple((p.name, p.type, p.required) for p in ak.STANDARD.item_params)
    matched = pl.Series(texts, dtype=pl.String).str.contains(nested._clean_items_grammar(params)).to_list()
    for text, clean in zip(texts, matched, strict=True):
        if clean:
            assert check_items(loads_exact(text), "purchase", ak.STANDARD.item_params) == [], text


def test_the_clean_grammar_matches_ordinary_items() -> None:
    params = tuple((p.name, p.type, p.required) for p in ak.STANDARD.item_params)
    texts = ['[{"item_id":"A","price":15900,"quantity":2}]', '[ {"brand": null, "item_id": "\\u00e9"} ]',
             '[{"item_id":"A","item_id":"B"},{"price":0.5,"item_id":"C","quantity":1}]',
             '[{"item_id":""}]', '[{"item_id":"A","price":-1}]', '[{"item_id":"A","quantity":0}]', '[{"price":1}]',
             '[]', '[{"item_id":"A","item_id":null}]', '[{"item_id":"A","price":1e3}]']
    got = pl.Series(texts).str.contains(nested._clean_items_grammar(params)).to_list()
    assert got == [True, True, True, False, False, False, False, False, False, False]


# -- the shortcuts of the row-level checks: what the plain polars expression (or Python) says ----------
_TEXTS = st.one_of(st.none(), st.text(alphabet=st.sampled_from(sorted(set(BLANK)) + list("ab@.+0(1 é"))),
                   st.text())


@settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_TEXTS, max_size=40))
def test_a_blank_uid_is_what_the_blank_pattern_says(values: list[str | None]) -> None:
    """`checks.blank` runs the regex on the few texts that can be blank: the same verdicts, nulls kept."""
    s = pl.Series("uid", values, dtype=pl.String)
    got = pl.select(blank(pl.lit(s))).to_series().to_list()
    assert got == [None if v is None else re.fullmatch(BLANK_PATTERN, v) is not None for v in values]


@settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.none(), st.sampled_from(["KRW", "USD", "krw", "US", "", "EURO", "€UR"])), max_size=40))
def test_a_mostly_null_column_matches_a_pattern_as_str_contains_says(values: list[str | None]) -> None:
    s = pl.Series("currency", values, dtype=pl.String)
    pattern = full(CURRENCY_PATTERN)
    got = pl.select(contains(pl.lit(s), pattern)).to_series()
    assert got.to_list() == s.str.contains(pattern).to_list()


def test_rare_keys_count_as_json_holds_them_nan_big_numbers_and_nulls_too() -> None:
    """W108's count of `__more` keys reads orjson's dict, `loads_exact`'s where orjson refuses the text."""
    texts = [None, '{"a":1,"b":null}', '{"a":NaN,"b":1e400,"c":123456789012345678901234567890}',
             '{"a":null,"a":1}', '{"_meta":1,"ts":2,"x":[1]}', None]
    df = pl.DataFrame({"__more": texts}, schema={"__more": pl.String})
    got = df.select(param_count(df.schema, ("ts",))).to_series().to_list()
    assert got == [0, 1, 3, 1, 1, 0]


def test_a_batch_schema_builds_its_checks_once_per_catalog(tmp_path: Path) -> None:
    """`checks_for` keeps the checks of a schema: the next batch of the same file reuses them, another
    catalog (or strictness) gets its own."""
    schema = pl.Schema({"uid": pl.String, "eventName": pl.String, "price": pl.Float64})
    first = checks_for(ak.Catalog.standard(), schema, strict=False, extra_columns=("ts",))
    catalog = ak.Catalog.standard()
    one = checks_for(catalog, schema, strict=False, extra_columns=("ts",))
    assert checks_for(catalog, schema, strict=False, extra_columns=("ts",)) is one
    assert checks_for(catalog, schema, strict=True, extra_columns=("ts",)) is not one
    assert [c.key for c in one] == [c.key for c in first]


@settings(max_examples=examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 26), st.data())
def test_w108s_mask_is_the_parameter_count_past_the_limit(columns: int, data: st.DataObject) -> None:
    """`too_many_params` counts only the rows that can pass MAX_PARAMS: the same rows as counting all."""
    rows = data.draw(st.integers(0, 12))
    # rows near the limit: a few columns absent (or, inverted, a few present)
    shapes = st.tuples(st.sets(st.integers(0, max(columns - 1, 0)), max_size=5), st.booleans())
    cells = [[(c in few) == inverted for c in range(columns)] for few, inverted in
             data.draw(st.lists(shapes, min_size=rows, max_size=rows))]
    more = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 6).map(
        lambda k: json.dumps({f"rare{i}": i for i in range(k)}))), min_size=rows, max_size=rows))
    df = pl.DataFrame({**{f"p{c}": [1 if r[c] else None for r in cells] for c in range(columns)}, "__more": more},
                      schema={**{f"p{c}": pl.Int64 for c in range(columns)}, "__more": pl.String})
    if data.draw(st.booleans()):  # a frame without rare keys
        df = df.drop("__more")
    got = df.select(too_many_params(df.schema, ("ts",))).to_series().to_list()
    want = df.select(param_count(df.schema, ("ts",)) > MAX_PARAMS).to_series().to_list()
    assert got == want
