"""Reading the next batch while this one is checked changes nothing a user sees but the time.

`support.ahead.read_ahead` makes each item in one background thread, one ahead of the caller: the
items come in order, at most one is made ahead (memory stays bounded), an error raised while making
an item reaches the caller when it asks for that item (after the items before it), Ctrl-C is not
lost, and a caller that stops early leaves no thread behind and the source closed.
"""

from __future__ import annotations

import threading

import pytest

import adrop_kit as ak
from adrop_kit.errors import DataReadError
from adrop_kit.support.ahead import read_ahead


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("adrop-read-ahead")]


class Source:
    """A generator of numbers that records what it made, where, and whether it was closed."""

    def __init__(self, n: int, fail_at: int | None = None, error: BaseException | None = None):
        self.made: list[int] = []
        self.threads: set[str] = set()
        self.closed_in: str | None = None
        self.n, self.fail_at, self.error = n, fail_at, error

    def __iter__(self):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise self.error  # type: ignore[misc]
                self.made.append(i)
                self.threads.add(threading.current_thread().name)
                yield i
        finally:
            self.closed_in = threading.current_thread().name


def test_items_come_in_order_made_in_another_thread_never_more_than_one_ahead():
    src = Source(50)
    seen = []
    for i in read_ahead(src):
        assert len(src.made) <= i + 2  # the caller's item and at most the next one
        seen.append(i)
    assert seen == list(range(50))
    assert src.threads and threading.current_thread().name not in src.threads
    assert _threads() == []


@pytest.mark.parametrize("error", [DataReadError("part-3.csv: not valid UTF-8"), KeyboardInterrupt(), MemoryError()])
def test_an_error_while_reading_reaches_the_caller_after_the_items_before_it(error):
    src = Source(10, fail_at=3, error=error)
    seen = []
    with pytest.raises(type(error)) as caught:
        for i in read_ahead(src):
            seen.append(i)
    assert caught.value is error
    assert seen == [0, 1, 2]
    assert _threads() == []


def test_a_caller_that_stops_early_closes_the_source_in_its_own_thread_and_leaves_no_thread():
    src = Source(1000)
    items = read_ahead(src)
    assert [next(items), next(items)] == [0, 1]
    items.close()
    assert src.closed_in == threading.current_thread().name
    assert len(src.made) <= 3
    assert _threads() == []


def test_an_error_in_the_caller_stops_the_reading_too():
    src = Source(1000)
    with pytest.raises(ValueError, match="the caller's"):
        for i in read_ahead(src):
            if i == 5:
                raise ValueError("the caller's")
    assert src.closed_in is not None and len(src.made) <= 7
    assert _threads() == []


def test_a_streamed_validation_reads_ahead_and_leaves_no_thread(tmp_path):
    lines = "".join(f'{{"uid": "u{i}", "eventName": "page_view", "page_id": "p{i}"}}\n' for i in range(3000))
    (tmp_path / "a.jsonl").write_text(lines + '{"uid": 1}\n')
    (tmp_path / "b.jsonl").write_text(lines)
    report = ak.validate_events(tmp_path, batch_bytes=10_000)
    assert (report.rows, report.invalid) == (6001, 1)
    assert _threads() == []


def test_a_broken_file_among_parts_fails_as_it_did_and_leaves_no_thread(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"uid": "u", "eventName": "app_open"}\n' * 2000)
    (tmp_path / "b.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataReadError, match="b.parquet"):
        ak.validate_events(tmp_path, batch_bytes=5_000)
    assert _threads() == []


def test_a_check_that_fails_midway_stops_the_reading_before_the_error_reaches_the_caller(tmp_path, monkeypatch):
    import adrop_kit.validate.pipeline as pipeline

    lines = "".join(f'{{"uid": "u{i}", "eventName": "page_view", "page_id": "p{i}"}}\n' for i in range(30_000))
    (tmp_path / "a.jsonl").write_text(lines)  # batches of over 4,096 rows: checked one by one (validate.coalesce)
    real, calls = pipeline.Accumulator.add, []

    def failing_add(self, cb):
        calls.append(cb.df.height)
        if len(calls) == 2:
            assert _threads(), "the next batch is being read meanwhile"
            raise OSError("disk full")
        return real(self, cb)

    monkeypatch.setattr(pipeline.Accumulator, "add", failing_add)
    with pytest.raises(OSError, match="disk full"):
        try:
            ak.validate_events(tmp_path / "a.jsonl", batch_bytes=400_000)
        except OSError:
            assert _threads() == []  # while the error is still being handled
            raise
