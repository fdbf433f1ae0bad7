"""The one per-batch planner (`send.plan.plan_batch`) that every dataset send runs, whatever its size
or engine: what becomes of each row of a checked batch before anything is sent. These replace the
parity tests that held the one-frame, streamed and Spark sends to each other: there is one path now."""

from __future__ import annotations

import hashlib

import pyarrow as pa
from conftest import app_opens

from adrop_kit.io.readers import to_frame
from adrop_kit.send.journal import Journal
from adrop_kit.send.outcome import EventOutcome, Outcome, SendResult
from adrop_kit.send.plan import canonical, plan_batch, unreadable
from adrop_kit.send.report import hold_rules
from adrop_kit.spark.send import Previous
from adrop_kit.spec.catalog import resolve
from adrop_kit.validate.batch import check_batch

CATALOG = resolve(None)
ROWS = [*app_opens(3),                                    # 0-2: sent
        {"uid": "", "eventName": "app_open"},             # 3: E002, skipped
        {"uid": "u4", "eventName": "my_custom_event"},    # 4: W101, held when asked
        {"uid": "u5", "eventName": "app_open", "ts": 1}]  # 5: sent, without its metadata column


def checked(rows=ROWS):
    cb = check_batch(to_frame(rows, CATALOG), CATALOG)
    return cb.df, cb.violations


def plan(rows=ROWS, **kw):
    df, violations = checked(rows)
    return plan_batch(df, violations, catalog=CATALOG, extra_columns=("ts",), **kw)


class Settled:
    """A `Resume` of the planner's own: any object with `label` and `known(jobs)` is one."""

    label = "a test"

    def __init__(self, known):
        self.settled = known
        self.asked: list[str] = []

    def known(self, jobs):
        self.asked += [j.key for j in jobs]
        return {j.key: self.settled[j.row] for j in jobs if j.row in self.settled}


def test_each_row_gets_one_job_and_nothing_is_lost():
    p = plan(hold=hold_rules("W101"))
    fates = {o.row: o.outcome for o in p.settled} | {j.row: "send" for j in p.jobs}
    assert fates == {0: "send", 1: "send", 2: "send", 3: Outcome.SKIPPED, 4: Outcome.HELD, 5: "send"}
    skipped = next(o for o in p.settled if o.outcome is Outcome.SKIPPED)
    assert skipped.error.startswith("E002 uid: ") and skipped.key is None  # never keyed: never journaled
    assert [j.index for j in p.jobs] == [0, 1, 2, 3] and p.would_send == []
    assert b'"ts"' not in p.jobs[-1].body  # metadata is never sent
    assert p.jobs[0].key == hashlib.sha256(canonical(ROWS[0])).hexdigest()[:32]  # the body's hash


def test_without_hold_a_warned_row_is_sent_and_a_source_keys_the_rows_of_one_file_of_many():
    p = plan(source="part-1.jsonl")
    assert [j.row for j in p.jobs] == [0, 1, 2, 4, 5]
    assert p.jobs[0].key == plan().jobs[0].key and p.jobs[0].source == "part-1.jsonl"  # the key is the content's
    assert {o.source for o in p.settled} == {"part-1.jsonl"}


def test_the_resume_settles_what_earlier_runs_delivered_or_had_rejected():
    resume = Settled({0: (Outcome.DELIVERED.value, 1), 1: (Outcome.REJECTED.value, 2), 2: (Outcome.FAILED.value, 4)})
    p = plan(resume=resume)
    by_row = {o.row: o for o in p.settled}
    assert by_row[0].outcome is Outcome.ALREADY_DELIVERED and by_row[0].attempts == 1
    assert by_row[1].outcome is Outcome.REJECTED and by_row[1].error == "rejected in an earlier run (a test)"
    assert [(j.row, j.attempts_before) for j in p.jobs] == [(2, 4), (4, 0), (5, 0)]  # a failure is tried again
    assert [j.index for j in p.jobs] == [0, 1, 2]
    assert len(resume.asked) == 5  # asked about the sendable rows only


def test_a_dry_run_sends_nothing_and_says_what_a_real_run_would_skip():
    p = plan(dry_run=True, resume=Settled({0: (Outcome.DELIVERED.value, 1)}))
    assert p.jobs == [] and [j.row for j in p.would_send] == [1, 2, 4, 5]
    assert sorted((o.row, str(o.outcome)) for o in p.settled) == [
        (0, "already_delivered"), (1, "dry_run"), (2, "dry_run"), (3, "skipped"), (4, "dry_run"), (5, "dry_run")]


def test_the_journal_and_sparks_previous_table_answer_the_same_question(tmp_path):
    first = plan()
    with Journal(tmp_path / "j.journal") as journal:
        for j in first.jobs[:2]:
            journal.record(j.key, j.row, j.event_name, Outcome.DELIVERED.value, 1, 200)
        from_journal = plan(resume=journal)
    previous = Previous()  # Spark: the earlier outcomes joined to the rows, read as the batches go by
    keys = [first.jobs[0].key, "0" * 32, None]  # row 1 was delivered in another form; row 2 by a table without keys
    batch = pa.RecordBatch.from_pydict({"_adrop_source": ["<data>"] * 3, "_adrop_row": [0, 1, 2], "x": [1, 2, 3],
                                        "_adrop_prev": ["delivered", "delivered", "delivered"],
                                        "_adrop_prev_attempts": [1, 1, None], "_adrop_prev_key": keys})
    assert [b.schema.names for b in previous.strip([batch])] == [["_adrop_source", "_adrop_row", "x"]]
    previous.source = "<data>"
    from_previous = plan(resume=previous)
    done = {o.row for o in from_journal.settled if o.outcome is Outcome.ALREADY_DELIVERED}
    assert done == {0, 1}
    assert {o.row for o in from_previous.settled if o.outcome is Outcome.ALREADY_DELIVERED} == {0, 2}
    assert {o.row for o in from_previous.settled if o.outcome is Outcome.CHANGED} == {1}  # the same identity


def test_unvalidated_batches_skip_only_what_the_server_would_refuse_unread():
    df = to_frame([*app_opens(1), {"uid": "", "eventName": "app_open"}, "not an object"], CATALOG).df
    p = plan_batch(df, unreadable(df), catalog=CATALOG, extra_columns=())
    assert [j.row for j in p.jobs] == [0, 1]
    assert [(o.row, o.outcome) for o in p.settled] == [(2, Outcome.SKIPPED)]
    assert p.settled[0].error.startswith("E001: ")


def test_one_result_type_for_one_event_and_for_a_row():
    assert SendResult is EventOutcome
    o = EventOutcome(3, "app_open", "k", Outcome.DELIVERED, 200, 1, None)
    assert o.ok and o.as_dict() == {"row": 3, "eventName": "app_open", "key": "k", "outcome": "delivered",
                                    "status": 200, "attempts": 1, "error": None, "source": None}
    assert not o._replace(outcome=Outcome.HELD).ok
