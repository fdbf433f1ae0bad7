"""A streamed run holds millions of violations in bounded memory (issue 17: 10M realistic rows,
all violations held, under 1 GB): each held violation costs a few bytes of codes, whatever the
length of its texts, and the report's table is exactly the violations as they were found."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

import adrop_kit as ak
from adrop_kit.validate import pipeline
from adrop_kit.validate.batch import empty_violations
from adrop_kit.validate.held import CHUNK, HeldViolations


def _batch(i: int, n: int) -> pl.DataFrame:
    """A batch's violations as a realistic run has them: one file, a few rules, key-filled messages."""
    keys = [f"custom_key_{k}" for k in range(40)]
    rows = range(i * n, (i + 1) * n)
    return pl.DataFrame({
        "source": ["/data/exports/2026-11/events-part-00017.jsonl"] * n, "row": list(rows),
        "line": [r + 1 for r in rows], "eventName": ["view_item" if r % 3 else "level_up" for r in rows],
        "rule": ["W102" if r % 5 else "E006" for r in rows],
        "severity": ["warning" if r % 5 else "error" for r in rows],
        "field": [keys[r % 40] for r in rows], "value": [str(r % 997) for r in rows],
        "message": [f"'{keys[r % 40]}' is not a parameter of view_item (a typo? it is sent as given)" for r in rows],
        "__json": [True] * n}, schema=empty_violations(flags=True).schema)


def test_held_violations_cost_a_few_bytes_each_and_come_back_unchanged():
    held = HeldViolations(empty_violations(flags=True))
    batches = [_batch(i, CHUNK // 8) for i in range(24)]  # three chunks
    text = sum(b.estimated_size() for b in batches) / sum(b.height for b in batches)
    for b in batches:
        held.add(b)
    per_violation = held.nbytes / held.height
    assert text > 150 and per_violation < 48, (text, per_violation)  # codes and numbers, not the texts
    out = held.frame()
    assert out.schema == empty_violations(flags=True).schema
    assert out.equals(pl.concat(batches))


def test_a_held_report_counts_as_its_table_says(tmp_path: Path, monkeypatch):
    """Past `_RECOUNT` violations the report takes the pipeline's batch counts; they are the table's."""
    rows = [{"uid": "u", "eventName": "view_item", "item_id": "1", "itemId": "x"},  # W102: warned
            {"uid": "", "eventName": "view_item", "item_id": "2"},  # E002: invalid
            {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a"}]},
            {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a"}], "x": 1}] * 50
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(pipeline, "_RECOUNT", 0)
    report = ak.validate_events(path, stream=True, batch_bytes=512)
    table = ak.validate_events(path)
    assert report.summary() == table.summary() == {"rows": 200, "valid": 150, "invalid": 50, "warned": 149}
    assert report.violations.equals(table.violations)
